import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkSameSamples, fromDigits, fromQueryRuns, readTestSamples, samplePredictions, toQueryRuns } from '../../../pipeline/eval/sample-predictions.ts';

describe('stored per-sample predictions', () => {
  it('round-trip labels, predictions and query ids; runs compress consecutive queries', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 60 }), (rows) => {
        const keys = rows.map((_, i) => `TW:test:q:${i}`);
        const q = rows.map((r) => `q${r[0]}`);
        const s = samplePredictions(keys, rows.map((r) => r[1]), rows.map((r) => r[2]), q);
        const back = readTestSamples(s, 'x');
        expect(back.truth).toEqual(rows.map((r) => r[1]));
        expect(back.clusters).toEqual(q);
        expect(fromDigits(s.pred, s.n, 'x')).toEqual(rows.map((r) => r[2]));
        expect(s.queries.runs.reduce((a, b) => a + b, 0)).toBe(rows.length);
        // JSON keeps it all
        expect(JSON.parse(JSON.stringify(s))).toEqual(s);
      }),
      { numRuns: 100 },
    );
    expect(toQueryRuns(['a', 'a', 'b', 'a'])).toEqual({ ids: ['a', 'b', 'a'], runs: [2, 1, 1] });
  });

  it('refuses to pair different test sets, naming both and the reason', () => {
    const keys = ['k1', 'k2', 'k3'];
    const a = samplePredictions(keys, [0, 1, 2], [0, 1, 1], ['q1', 'q1', 'q2']);
    expect(() => checkSameSamples(a, samplePredictions(['k1', 'k3', 'k2'], [0, 1, 2], [0, 1, 1], ['q1', 'q1', 'q2']), 'stage2/result.json', 'sd-1/result.json'))
      .toThrow(/stage2\/result.json and sd-1\/result.json are not scored on the same test samples: sample keys differ/);
    expect(() => checkSameSamples(a, samplePredictions(keys, [0, 1, 1], [0, 1, 1], ['q1', 'q1', 'q2']), 'A', 'B')).toThrow(/true labels differ/);
    expect(() => checkSameSamples(a, samplePredictions(keys, [0, 1, 2], [0, 1, 1], ['q1', 'q2', 'q2']), 'A', 'B')).toThrow(/query ids differ/);
    expect(() => checkSameSamples(a, samplePredictions(['k1'], [0], [0], ['q1']), 'A', 'B')).toThrow(/3 vs 1 samples/);
  });

  it('rejects damaged records with the place and reason', () => {
    expect(() => fromDigits('01x', 3, 'stage2/result.json predictions')).toThrow(/stage2\/result.json predictions: character "x" at sample 2 is not a digit/);
    expect(() => fromDigits('01', 3, 'p')).toThrow(/expected 3 digits, found 2/);
    expect(() => fromQueryRuns({ ids: ['a'], runs: [2] }, 3, 'q')).toThrow(/cover 2 samples, expected 3/);
    expect(() => samplePredictions(['k'], [3.5], [0], ['q'])).toThrow(/truth: value 3.5 at sample 0/);
    expect(() => readTestSamples(undefined as never, 'old/result.json')).toThrow(/old\/result.json: no per-sample test results \(rerun the stage/);
  });
});
