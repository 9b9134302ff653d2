import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { gpucheck, gradcheck, precompile } from '../../engine/index.ts';
import { dropoutKernel } from '../../kernels/dropout/apply.ts';
import { dropKeep, dropThreshold, dropoutRef } from '../../engine/reference/dropout.ts';
import { input, randData, rng } from '../util.ts';

const r = rng(31);

describe('dropout', () => {
  it('compiles', async () => {
    await precompile(dropoutKernel);
  });
  for (const shape of [[7, 13], [1], [3, 1, 5], [1031]]) {
    for (const p of [0.1, 0.5]) {
      it(`[${shape}] p=${p}: GPU mask equals the float64 reference bit for bit; gradcheck`, async () => {
        const f = (x: E.Tensor) => E.dropout(x, p, 12345);
        expect(gradcheck(f, [input(r, shape)]).ok).toBe(true);
        await gpucheck(f, [input(r, shape)], { fwdTol: 1e-6 });
        // exact mask equality: zero pattern matches the reference
        const data = randData(r, shape.reduce((a, b) => a * b, 1));
        const ref = dropoutRef(data, p, 99);
        const y = await E.scopeAsync(async () => E.read(E.dropout(E.tensor(data, shape), p, 99)));
        for (let i = 0; i < ref.length; i++) expect(y[i] === 0).toBe(ref[i] === 0);
      });
    }
  }
  it('same seed ⇒ same mask, another seed ⇒ another mask; keep rate ≈ 1 − p', async () => {
    const n = 100_003;
    const x = E.ones([n]);
    const [a, b, c] = await E.scopeAsync(async () => [
      await E.read(E.dropout(x, 0.3, 7)),
      await E.read(E.dropout(x, 0.3, 7)),
      await E.read(E.dropout(x, 0.3, 8)),
    ]);
    x.dispose();
    expect(Array.from(a)).toEqual(Array.from(b));
    let kept = 0;
    let same = 0;
    for (let i = 0; i < n; i++) {
      if (a[i] !== 0) {
        kept++;
        expect(a[i]).toBeCloseTo(1 / 0.7, 5);
      }
      if ((a[i] === 0) === (c[i] === 0)) same++;
    }
    expect(Math.abs(kept / n - 0.7)).toBeLessThan(0.01); // binomial sd ≈ 0.0015
    expect(same / n).toBeLessThan(0.65); // independent masks agree with prob 0.58
  });
  it('is the identity out of training and at p = 0; p = 1 drops everything', async () => {
    const x = E.tensor([1, 2, 3], [3]);
    expect(E.dropout(x, 0.5, 1, { training: false })).toBe(x);
    expect(E.dropout(x, 0, 1)).toBe(x);
    const y = E.dropout(x, 1, 1);
    expect(await E.toArray(y)).toEqual([0, 0, 0]);
    y.dispose();
    x.dispose();
  });
  it('property: for any seed, p and length the GPU mask equals the reference mask', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 0xffffffff }), fc.double({ min: 0.01, max: 0.99, noNaN: true }), fc.integer({ min: 1, max: 300 }), async (seed, p, n) => {
        const data = randData(r, n);
        const ref = dropoutRef(data, p, seed);
        const y = await E.scopeAsync(async () => E.read(E.dropout(E.tensor(data, [n]), p, seed)));
        return ref.every((v, i) => (v === 0) === (y[i] === 0) && Math.abs(v - y[i]!) <= 1e-6 * Math.abs(v));
      }),
      { numRuns: 25 },
    );
  });
  it('threshold and hash are exact integers', () => {
    expect(dropThreshold(0.5)).toBe(2 ** 23);
    expect(dropThreshold(1)).toBe(2 ** 24);
    expect([0, 1, 2].map((e) => dropKeep(5, e, 0))).toEqual([1, 1, 1]);
  });
  it('rejects a bad probability or seed', () => {
    const x = E.tensor([1, 2], [2]);
    expect(() => E.dropout(x, 1.5, 1)).toThrow(/dropout: dropout probability 1.5/);
    expect(() => E.dropout(x, 0.5, -1)).toThrow(/dropout: seed -1/);
    x.dispose();
  });
});

