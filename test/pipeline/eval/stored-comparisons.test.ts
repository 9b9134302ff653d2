import { describe, expect, it } from 'vitest';
import { metricValue, binaryF1Scored } from '../../../pipeline/eval/count-metrics.ts';
import { samplePredictions, testSamples } from '../../../pipeline/eval/sample-predictions.ts';
import { compareStoredBinary, compareStoredOutcomes, compareStoredPredictions } from '../../../pipeline/eval/stored-comparisons.ts';

describe('paired comparisons from stored records', () => {
  it('compares stored predictions of several seeds', () => {
    const keys = Array.from({ length: 8 }, (_, i) => `k${i}`);
    const q = keys.map((_, i) => `q${i >> 1}`);
    const truth = [0, 1, 2, 0, 1, 2, 0, 1];
    const a1 = samplePredictions(keys, truth, [0, 1, 2, 0, 0, 0, 0, 0], q); // 4 + 1 right
    const b1 = samplePredictions(keys, truth, truth, q); // 8 right
    const c = compareStoredPredictions([a1, a1], [b1, a1], { a: 'stage1', b: 'stage2' }, { resamples: 500 });
    expect(c.a).toBeCloseTo(5 / 8, 12);
    expect(c.b).toBeCloseTo((1 + 5 / 8) / 2, 12);
    expect(c.delta).toBeCloseTo(3 / 16, 12);
    expect(c.discordant).toEqual({ aOnly: 0, bOnly: 3 });
    expect(c.pValue).toBe(0.25); // 2 · 2⁻³
    expect(c.seeds).toBe(2);
    expect(c.clusters).toBe(4);
    const other = samplePredictions(keys.map((k) => `${k}x`), truth, truth, q);
    expect(() => compareStoredPredictions([a1], [other], { a: 'stage1', b: 'stage2' })).toThrow(/stage1 \(seed 1\) and stage2 \(seed 1\) are not scored on the same test samples/);
    expect(() => compareStoredPredictions([a1], [b1, b1], { a: 'stage1', b: 'stage2' })).toThrow(/1 vs 2 seeds/);
  });

  it('compares binary tasks (Table 3) by F1 and by accuracy', () => {
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    const labels = [2, 2, 0, 1, 2, 0];
    const t = testSamples(keys, labels, ['q1', 'q1', 'q1', 'q2', 'q2', 'q3']);
    const exact = (l: number) => l === 2;
    // baseline predicts exact on a, c; distilled on a, b, e
    const base = '101000';
    const dist = '110010';
    const f1 = compareStoredBinary([t], exact, [base], [dist], 'f1', { a: 'baseline', b: 'distilled' }, { resamples: 300 });
    // baseline TP 1 FP 1 FN 2 → F1 2/5; distilled TP 3 → F1 1
    expect(f1.a).toBeCloseTo(metricValue(binaryF1Scored(labels.map(exact), [1, 0, 1, 0, 0, 0])), 12);
    expect(f1.a).toBeCloseTo(0.4, 12);
    expect(f1.b).toBe(1);
    const acc = compareStoredBinary([t], exact, [base], [dist], 'accuracy', { a: 'baseline', b: 'distilled' }, { resamples: 300 });
    expect(acc.a).toBeCloseTo(3 / 6, 12);
    expect(acc.b).toBe(1);
    expect(acc.discordant).toEqual({ aOnly: 0, bOnly: 3 });
    expect(() => compareStoredBinary([t], exact, [base], ['1100'], 'f1', { a: 'baseline', b: 'distilled' })).toThrow(/distilled \(seed 1\) predictions: expected 6 digits, found 4/);
  });

  it('compares per-query outcomes, each query its own cluster', () => {
    const bm25 = { n: 5, fingerprint: 'f', outcomes: '10100' };
    const ebr = { n: 5, fingerprint: 'f', outcomes: '11101' };
    const c = compareStoredOutcomes([bm25], [ebr], { a: 'BM25', b: 'EBR' }, { resamples: 300 });
    expect([c.a, c.b, c.delta]).toEqual([0.4, 0.8, 0.4]);
    expect(c.clusters).toBe(5);
    expect(c.discordant).toEqual({ aOnly: 0, bOnly: 2 });
    expect(c.pValue).toBe(0.5);
    expect(() => compareStoredOutcomes([bm25], [{ ...ebr, fingerprint: 'g' }], { a: 'BM25', b: 'EBR*' })).toThrow(/BM25 \(seed 1\) and EBR\* \(seed 1\) are not scored on the same queries/);
  });
});
