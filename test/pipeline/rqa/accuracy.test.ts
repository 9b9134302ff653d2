import { describe, expect, it } from 'vitest';
import type { Label } from '../../../pipeline/data/schema.ts';
import { formatAccuracy, retrievalAccuracy } from '../../../pipeline/rqa/accuracy.ts';

// Ground truth: products named e* are exact, s* substitutes, everything else irrelevant.
const truth = (_q: string, p: string): Label => (p.startsWith('e') ? 2 : p.startsWith('s') ? 1 : 0);
const retrieved = [
  { query_id: 'q1', product_ids: ['e1', 'x1', 'x2'] }, // top-1 right
  { query_id: 'q2', product_ids: ['s1', 'e2', 'e3'] }, // exact in 2nd/3rd place, majority exact
  { query_id: 'q3', product_ids: ['s2', 's3', 'x3'] }, // substitutes only
  { query_id: 'q4', product_ids: ['x4'] }, // one wrong result, two missing
];

describe('retrieval accuracy (section 5.2)', () => {
  it('counts exact matches by top-1, any of top-k, majority and per text', () => {
    const a = retrievalAccuracy(retrieved, truth, { k: 3 });
    expect(a).toEqual({ queries: 4, k: 3, minLabel: 2, top1: 1 / 4, anyOfK: 2 / 4, majorityOfK: 1 / 4, perText: 3 / 12 });
  });

  it('optionally counts substitutes as carrying the intent, and honours k', () => {
    const a = retrievalAccuracy(retrieved, truth, { k: 3, minLabel: 1 });
    expect([a.top1, a.anyOfK, a.majorityOfK, a.perText]).toEqual([3 / 4, 3 / 4, 2 / 4, 6 / 12]); // correct per query: 1, 3, 2, 0
    const b = retrievalAccuracy(retrieved, truth, { k: 1 });
    expect([b.top1, b.anyOfK, b.majorityOfK, b.perText]).toEqual([1 / 4, 1 / 4, 1 / 4, 1 / 4]);
    expect(formatAccuracy([{ name: 'BM25', acc: a }])).toMatch(/BM25\s+75\.0%/);
    expect(() => retrievalAccuracy(retrieved, truth, { k: 0 })).toThrow();
  });
});
