// Length-grouped batching reorders what the interleaver draws and nothing else: every drawn sample
// comes out once, padding never grows, groups = 1 is the interleaver's own order, and a stream
// resumed from its state at any step gives the same batches as one that never stopped.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interleave, type TaskStream } from '../../pipeline/train/interleave.ts';
import { lengthGrouped } from '../../pipeline/train/length-groups.ts';

type Item = { id: number; len: number };
const items = (n: number, seed: number, base: number): Item[] =>
  Array.from({ length: n }, (_, i) => ({ id: base + i, len: 5 + ((i * 7919 + seed * 31) % 60) }));
const tasks = (seed: number): TaskStream<Item>[] => [
  { name: 'relevance', ratio: 0.75, items: items(53, seed, 0) },
  { name: 'translation', ratio: 0.25, items: items(17, seed, 1000) },
];
const make = (seed: number) => (st?: Parameters<typeof interleave<Item>>[2]) => interleave(tasks(seed), seed, st);
const len = (x: Item) => x.len;
const ids = (b: { item: Item }[]) => b.map((d) => d.item.id);

describe('lengthGrouped', () => {
  it('gives out exactly what the interleaver drew, pool by pool, and pads no more than its order', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 2, max: 6 }), fc.integer({ min: 0, max: 1000 }), (B, G, seed) => {
      const plain = make(seed)();
      const grouped = lengthGrouped(make(seed), B, G, len, seed);
      for (let pool = 0; pool < 3; pool++) {
        const drawn = Array.from({ length: G }, () => plain.next(B));
        const got = Array.from({ length: G }, () => grouped.next());
        expect(got.flatMap(ids).sort((a, b) => a - b)).toEqual(drawn.flatMap(ids).sort((a, b) => a - b));
        const pad = (bs: { item: Item }[][]) => bs.reduce((s, b) => s + b.length * Math.max(...b.map((d) => d.item.len)), 0);
        expect(pad(got)).toBeLessThanOrEqual(pad(drawn));
        for (const b of got) expect(b).toHaveLength(B);
      }
    }));
  });

  it('groups = 1 is the interleaver\'s own order', () => {
    const plain = make(4)();
    const g = lengthGrouped(make(4), 16, 1, len, 4);
    for (let i = 0; i < 20; i++) expect(ids(g.next())).toEqual(ids(plain.next(16)));
  });

  it('resumes exactly from its state at any step', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 100 }), (k, G, seed) => {
      const a = lengthGrouped(make(seed), 4, G, len, seed);
      for (let i = 0; i < k; i++) a.next();
      const saved = JSON.parse(JSON.stringify(a.state()));
      const b = lengthGrouped(make(seed), 4, G, len, seed, saved);
      for (let i = 0; i < 2 * G + 3; i++) expect(ids(b.next())).toEqual(ids(a.next()));
    }));
  });

  it('sorts within a pool: the batches of a pool, by their shortest sample, do not overlap in length', () => {
    const g = lengthGrouped(make(9), 8, 4, len, 9);
    const pool = Array.from({ length: 4 }, () => g.next().map((d) => d.item.len)).sort((x, y) => Math.min(...x) - Math.min(...y));
    for (let i = 1; i < pool.length; i++) expect(Math.min(...pool[i]!)).toBeGreaterThanOrEqual(Math.max(...pool[i - 1]!));
  });

  it('a cursor of the older format is refused with a clear message', () => {
    expect(() => lengthGrouped(make(1), 4, 2, len, 1, { rng: [1], cursors: [], orders: [] } as never)).toThrow(/older format/);
  });
});
