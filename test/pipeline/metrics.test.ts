import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { confusionMatrix, evaluate, microF1, transferGap } from '../../pipeline/eval/metrics.ts';

describe('eq. 5 micro-F1', () => {
  it('matches a hand-computed case', () => {
    // truth: 2 2 2 1 1 0 0 0 ; pred: 2 2 1 1 0 0 0 2
    const t = [2, 2, 2, 1, 1, 0, 0, 0];
    const p = [2, 2, 1, 1, 0, 0, 0, 2];
    const cm = confusionMatrix(t, p);
    expect(cm).toEqual([
      [2, 0, 1],
      [1, 1, 0],
      [0, 1, 2],
    ]);
    // TP = 5; FP = FN = 3 → 5 / (5 + 3) = 0.625
    expect(microF1(cm)).toBeCloseTo(0.625, 12);
    const e = evaluate(t, p);
    expect(e.perClass[2]!.precision).toBeCloseTo(2 / 3, 12);
    expect(e.perClass[2]!.recall).toBeCloseTo(2 / 3, 12);
    expect(e.perClass[1]!.recall).toBeCloseTo(0.5, 12);
    expect(e.majorityRate).toBeCloseTo(3 / 8, 12);
  });
  it('equals accuracy for single-label predictions (ΣFP = ΣFN)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 60 }), (pairs) => {
        const e = evaluate(pairs.map((x) => x[0]), pairs.map((x) => x[1]));
        expect(e.microF1).toBeCloseTo(e.accuracy, 12);
      }),
      { numRuns: 200 },
    );
  });
  it('rejects labels out of range', () => {
    expect(() => confusionMatrix([0, 3], [0, 1])).toThrow(/label out of range at 1/);
  });
});

describe('eq. 6 cross-lingual transfer gap', () => {
  it('matches a hand-computed case', () => {
    const src = [Float64Array.from([0, 0]), Float64Array.from([2, 0])];
    const tgt = [Float64Array.from([1, 0]), Float64Array.from([3, 0])];
    // ē = (2, 0); pair 0: |1-0| / |1-2| = 1; pair 1: |3-2| / |3-2| = 1 → 1
    expect(transferGap(src, tgt)).toBeCloseTo(1, 12);
    const same = transferGap(tgt, tgt);
    expect(same).toBe(0);
  });
  it('shrinks when source representations move toward their twins', () => {
    const tgt = [Float64Array.from([1, 2]), Float64Array.from([-1, 0]), Float64Array.from([0, 3])];
    const far = tgt.map((t) => Float64Array.from(t, (v) => v + 2));
    const near = tgt.map((t) => Float64Array.from(t, (v) => v + 0.5));
    expect(transferGap(near, tgt)).toBeLessThan(transferGap(far, tgt));
  });
});
