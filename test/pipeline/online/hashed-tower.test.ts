import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { charNgrams, createHashedTower, normaliseText } from '../../../pipeline/online/hashed-tower.ts';
import { loadTower, parseTowerSpec } from '../../../pipeline/online/tower-registry.ts';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const norm = (a: Float32Array) => Math.sqrt(dot(a, a));

describe('hashed n-gram tower', () => {
  it('extracts framed code-point n-grams, short texts as one gram', () => {
    expect(charNgrams(normaliseText('  Ab  C '), [3])).toEqual(['\u0002ab', 'ab ', 'b c', ' c\u0003']);
    expect(charNgrams(normaliseText(''), [3])).toEqual(['\u0002\u0003']);
    expect(charNgrams('\u0002鹽湖\u0003', [2])).toEqual(['\u0002鹽', '鹽湖', '湖\u0003']);
  });

  it('property: deterministic, L2-normalised, configured dimension, for any text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 40 }), fc.integer({ min: 1, max: 64 }), async (text, dim) => {
        const t = createHashedTower({ dim, ngrams: [2, 3] });
        const [a] = await t.encodeQueries([text]);
        const [b] = await t.encodeItems([{ id: 'x', text }]);
        expect(a!.length).toBe(dim);
        expect(norm(a!)).toBeCloseTo(1, 5);
        expect(Array.from(b!)).toEqual(Array.from(a!)); // same text, same tower: cosine 1
      }),
      { numRuns: 200 },
    );
  });

  it('scores shared n-grams above unrelated text, and the inverted tower the other way round', async () => {
    const em = createHashedTower({ dim: 256 });
    const defect = createHashedTower({ dim: 256, invert: true });
    const [q] = await em.encodeQueries(['natural lake salt']);
    const [near, far] = await em.encodeItems([{ id: 'a', text: 'Natural Lake Salt for cooking 500g' }, { id: 'b', text: 'wall paint roller brush' }]);
    expect(dot(q!, near!)).toBeGreaterThan(0.5);
    expect(Math.abs(dot(q!, far!))).toBeLessThan(0.3);
    const [dnear] = await defect.encodeItems([{ id: 'a', text: 'Natural Lake Salt for cooking 500g' }]);
    expect(dot(q!, dnear!)).toBeCloseTo(-dot(q!, near!), 6);
  });

  it('loads from a registry spec and rejects unknown kinds and options', async () => {
    expect(parseTowerSpec('hashed:dim=64,n=2+3,invert=1')).toEqual({ kind: 'hashed', options: { dim: '64', n: '2+3', invert: '1' } });
    expect(parseTowerSpec('twin:/runs/a/em.ckpt')).toEqual({ kind: 'twin', options: { path: '/runs/a/em.ckpt' } });
    const t = await loadTower('hashed:dim=64,scale=4');
    expect([t.dim, t.scale]).toEqual([64, 4]);
    await expect(loadTower('nope:x=1')).rejects.toThrow(/unknown tower kind 'nope'/);
    await expect(loadTower('hashed:dimm=3')).rejects.toThrow(/unknown option 'dimm'/);
    await expect(loadTower('hashed:dim=0')).rejects.toThrow(/dim must be a positive integer/);
  });
});
