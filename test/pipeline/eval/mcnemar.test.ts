import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { discordance, mcnemarExact } from '../../../pipeline/eval/mcnemar.ts';

/** The exact two-sided p-value in integer arithmetic: 2 · Σ_{i ≤ min} C(n, i) / 2ⁿ, capped at 1. */
function exactBig(b: number, c: number): number {
  const n = b + c;
  const m = Math.min(b, c);
  let binom = 1n;
  let sum = 0n;
  for (let i = 0; i <= m; i++) {
    if (i > 0) binom = (binom * BigInt(n - i + 1)) / BigInt(i);
    sum += binom;
  }
  // keep the top 60 bits of the sum, then scale by 2^(shift − n + 1)
  const shift = Math.max(0, sum.toString(2).length - 60);
  return Math.min(1, Number(sum >> BigInt(shift)) * 2 ** (shift - n + 1));
}

describe('McNemar exact test', () => {
  it('matches hand-computed cases', () => {
    expect(mcnemarExact(0, 5)).toBe(2 / 32);
    expect(mcnemarExact(1, 9)).toBeCloseTo(22 / 1024, 15); // 2 · (1 + 10) / 2¹⁰
    expect(mcnemarExact(10, 0)).toBeCloseTo(2 / 1024, 15);
    expect(mcnemarExact(0, 0)).toBe(1);
    expect(mcnemarExact(2, 2)).toBe(1);
    expect(mcnemarExact(3, 2)).toBe(1); // 2 · P(X ≤ 2 | 5) = 2 · 16/32
    expect(mcnemarExact(2, 6)).toBeCloseTo(2 * (1 + 8 + 28) / 256, 15);
  });
  it('equals the integer computation, including large counts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1500 }), fc.integer({ min: 0, max: 1500 }), (b, c) => {
        const p = mcnemarExact(b, c);
        const ref = exactBig(b, c);
        if (ref < 1e-300) expect(p).toBeLessThan(1e-290);
        else expect(Math.abs(p - ref) / ref).toBeLessThan(1e-10);
      }),
      { numRuns: 150 },
    );
  });
  it('is accurate for large, nearly balanced counts (the log-space path)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 450, max: 3000 }), fc.integer({ min: 2, max: 150 }), (b, d) => {
        const ref = exactBig(b, b + d);
        expect(Math.abs(mcnemarExact(b, b + d) - ref) / ref).toBeLessThan(1e-9);
      }),
      { numRuns: 60 },
    );
  });
  it('is symmetric in its arguments and grows as the counts approach each other', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 300 }), (b, c) => {
        expect(mcnemarExact(b, c)).toBe(mcnemarExact(c, b));
        if (b < c) expect(mcnemarExact(b + 1, c)).toBeGreaterThanOrEqual(mcnemarExact(b, c));
      }),
      { numRuns: 100 },
    );
  });
  it('counts discordant samples and rejects bad input', () => {
    expect(discordance([1, 1, 0, 0, 1], [1, 0, 1, 0, 0])).toEqual({ aOnly: 2, bOnly: 1 });
    expect(() => discordance([1], [1, 0])).toThrow(/1 vs 2 samples/);
    expect(() => mcnemarExact(-1, 2)).toThrow(/b must be a count/);
    expect(() => mcnemarExact(1, 0.5)).toThrow(/c must be a count/);
  });
});
