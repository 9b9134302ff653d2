import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatSeedSpread, seedSpread } from '../../../pipeline/eval/seed-spread.ts';

describe('mean ± sd over seeds', () => {
  it('matches hand-computed values', () => {
    const s = seedSpread([1, 2, 3, 4]);
    expect(s.mean).toBe(2.5);
    expect(s.sd).toBeCloseTo(Math.sqrt(5 / 3), 12); // Σ(x − 2.5)² = 5, n − 1 = 3
    expect(formatSeedSpread(s, 2)).toBe('2.50 ± 1.29');
    const one = seedSpread([0.45]);
    expect(one.sd).toBeNull();
    expect(formatSeedSpread(one)).toBe('0.4500');
  });
  it('is shift-equivariant and scales with the values', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 2, maxLength: 10 }), fc.double({ min: -5, max: 5, noNaN: true }), (xs, c) => {
        const s = seedSpread(xs);
        const t = seedSpread(xs.map((x) => x + c));
        const u = seedSpread(xs.map((x) => 3 * x));
        expect(t.mean).toBeCloseTo(s.mean + c, 9);
        expect(t.sd!).toBeCloseTo(s.sd!, 9);
        expect(u.sd!).toBeCloseTo(3 * s.sd!, 9);
        expect(seedSpread(xs.map(() => xs[0]!)).sd).toBeCloseTo(0, 12);
      }),
      { numRuns: 100 },
    );
  });
  it('rejects no values and non-numbers, naming the seed', () => {
    expect(() => seedSpread([])).toThrow(/no values/);
    expect(() => seedSpread([0.4, Number.NaN])).toThrow(/seed 2 is not a finite number/);
  });
});
