import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { binaryMetrics, rankingMetrics, table3Metrics, type RankedCandidate } from '../../../pipeline/online/metrics.ts';
import type { Label } from '../../../pipeline/data/schema.ts';

describe('Table 3 binary metrics', () => {
  it('matches a hand count', () => {
    // truth  T T T F F F F
    // prob  .9 .5 .2 .7 .1 .4 .6  → pred (≥ .5)  T T F T F F T
    // TP 2, FN 1, FP 2, TN 2
    const m = binaryMetrics([true, true, true, false, false, false, false], [0.9, 0.5, 0.2, 0.7, 0.1, 0.4, 0.6]);
    expect(m.accuracy).toBeCloseTo(4 / 7, 12);
    expect(m.precision).toBeCloseTo(2 / 4, 12);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(m.f1).toBeCloseTo((2 * 0.5 * (2 / 3)) / (0.5 + 2 / 3), 12);
    // a stricter threshold flips the 0.5, 0.6 and 0.7 predictions
    const s = binaryMetrics([true, true, true, false, false, false, false], [0.9, 0.5, 0.2, 0.7, 0.1, 0.4, 0.6], 0.8);
    expect([s.precision, s.recall, s.accuracy]).toEqual([1, 1 / 3, 5 / 7]);
  });

  it('defines the degenerate cases as 0 instead of NaN, and rejects bad input', () => {
    const none = binaryMetrics([false, false], [0.1, 0.2]);
    expect(none).toEqual({ n: 2, accuracy: 1, precision: 0, recall: 0, f1: 0 });
    expect(() => binaryMetrics([], [])).toThrow(/no samples/);
    expect(() => binaryMetrics([true], [0.1, 0.2])).toThrow(/1 labels vs 2/);
    expect(() => binaryMetrics([true], [NaN])).toThrow(/not in \[0, 1\]/);
  });

  it('takes exact as the EM positive class and irrelevant as the defect positive class', () => {
    const labels: Label[] = [2, 1, 0, 2];
    const t = table3Metrics(labels, [0.9, 0.6, 0.1, 0.3], [0.1, 0.2, 0.8, 0.6]);
    // EM: truth T F F T, pred T T F F → TP1 FP1 FN1 TN1
    expect(t.exactMatch).toEqual({ n: 4, accuracy: 0.5, precision: 0.5, recall: 0.5, f1: 0.5 });
    // defect: truth F F T F, pred F F T T → TP1 FP1 TN2
    expect(t.defect).toEqual({ n: 4, accuracy: 0.75, precision: 0.5, recall: 1, f1: 2 / 3 });
  });

  it('property: F1 is the harmonic mean and accuracy counts agreements', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 1, maxLength: 50 }), (xs) => {
        const m = binaryMetrics(xs.map((x) => x[0]), xs.map((x) => x[1]));
        const agree = xs.filter(([t, p]) => t === p >= 0.5).length;
        expect(m.accuracy).toBeCloseTo(agree / xs.length, 12);
        if (m.precision + m.recall > 0) expect(m.f1).toBeCloseTo((2 * m.precision * m.recall) / (m.precision + m.recall), 12);
        expect(m.f1).toBeLessThanOrEqual(Math.max(m.precision, m.recall) + 1e-12);
      }),
    );
  });
});

const c = (product_id: string, label: Label, em: number, defect: number): RankedCandidate => ({ product_id, label, em, defect });

describe('ranking simulation: EM@1 and Defect@5 (section 6.2)', () => {
  it('filters by defect, orders by EM and judges the page by hand', () => {
    const queries = [
      // q1: the exact item 'a' has the highest EM but is filtered (defect .7 ≥ .5); 'b' (substitute) tops
      [c('a', 2, 0.95, 0.7), c('b', 1, 0.9, 0.1), c('c', 2, 0.8, 0.2), c('d', 0, 0.1, 0.3)],
      // q2: exact on top; an irrelevant item at rank 6 is outside the top 5
      [c('e', 2, 0.9, 0.1), c('f', 1, 0.8, 0.1), c('g', 1, 0.7, 0.1), c('h', 1, 0.6, 0.1), c('i', 1, 0.5, 0.1), c('j', 0, 0.4, 0.1)],
      // q3: an irrelevant item survives the filter and lands at rank 2
      [c('k', 2, 0.9, 0.2), c('l', 0, 0.8, 0.4)],
      // q4: fewer than 5 shown, all clean, top substitute
      [c('m', 1, 0.5, 0.1)],
    ];
    const r = rankingMetrics(queries);
    // EM@1: q2, q3 → 2/4; Defect@5 (no irrelevant in top 5): q2, q4 → 2/4 (q1 shows d at rank 3)
    expect(r).toEqual({ queries: 4, em1: 0.5, defect5: 0.5, defectRate5: 0.5, empty: 0 });
  });

  it('counts an empty page as an EM@1 miss and defect-free, and reports it as empty', () => {
    const r = rankingMetrics([[c('a', 2, 0.9, 0.9), c('b', 0, 0.9, 0.5)], [], [c('x', 2, 0.1, 0.2)]]);
    expect(r.em1).toBeCloseTo(1 / 3, 12);
    expect(r.defect5).toBe(1);
    expect(r.empty).toBeCloseTo(2 / 3, 12);
    expect(() => rankingMetrics([])).toThrow(/no queries/);
  });

  it('keeps the input order among equal EM scores', () => {
    const r = rankingMetrics([[c('a', 1, 0.5, 0.1), c('b', 2, 0.5, 0.1)]]);
    expect(r.em1).toBe(0); // 'a' stays first
  });

  it('property: a perfect model reaches EM@1 = share of queries with an exact item, Defect@5 = 1', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.constantFrom<Label>(0, 1, 2), { maxLength: 9 }), { minLength: 1, maxLength: 20 }), (qs) => {
        const perfect = qs.map((ls) => ls.map((l, i) => c(`p${i}`, l, l === 2 ? 0.9 : 0.2, l === 0 ? 0.9 : 0.1)));
        const r = rankingMetrics(perfect);
        expect(r.em1).toBeCloseTo(qs.filter((ls) => ls.includes(2)).length / qs.length, 12);
        expect(r.defect5).toBe(1);
        expect(r.empty).toBeCloseTo(qs.filter((ls) => ls.every((l) => l === 0)).length / qs.length, 12);
      }),
    );
  });
});
