import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildBm25, search, searchBatch } from '../../../pipeline/rqa/bm25.ts';
import { bm25Scan } from '../../../pipeline/rqa/bm25-scan.ts';
import { pseudoPairs } from '../../../pipeline/rqa/pseudo-pairs.ts';

// Four tiny documents; lengths in terms: 2, 3, 4, 5 (神仙水 → 神 神仙 仙 仙水 水), avgdl = 14/4.
const docs = [
  { id: 'd1', text: 'red shoes' },
  { id: 'd2', text: 'red red hat' },
  { id: 'd3', text: 'blue shoes shoes sale' },
  { id: 'd4', text: '神仙水' },
];

describe('BM25', () => {
  it('matches a hand-computed score (k1 = 1.2, b = 0.75)', () => {
    const k1 = 1.2, b = 0.75, avgdl = 3.5;
    const idf2 = Math.log(1 + (4 - 2 + 0.5) / (2 + 0.5)); // red and shoes are in 2 of 4 documents
    const part = (tf: number, len: number) => (tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * len) / avgdl));
    const want = [
      { id: 'd1', score: idf2 * part(1, 2) + idf2 * part(1, 2) },
      { id: 'd2', score: idf2 * part(2, 3) },
      { id: 'd3', score: idf2 * part(2, 4) },
    ].sort((x, y) => y.score - x.score);
    const got = search(buildBm25(docs), 'Red SHOES', 10);
    expect(got.map((h) => h.id)).toEqual(want.map((h) => h.id));
    got.forEach((h, i) => expect(Math.abs(h.score - want[i]!.score)).toBeLessThan(1e-9));
  });

  it('matches a hand-computed CJK score with other k1 and b', () => {
    const k1 = 2, b = 0.3, avgdl = 3.5;
    const idf1 = Math.log(1 + (4 - 1 + 0.5) / (1 + 0.5));
    const part = (tf: number, len: number) => (tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * len) / avgdl));
    // 神仙 → 神, 神仙, 仙: three distinct terms, each once in d4.
    const got = search(buildBm25(docs, { k1, b }), '神仙', 3);
    expect(got).toHaveLength(1);
    expect(got[0]!.id).toBe('d4');
    expect(Math.abs(got[0]!.score - 3 * idf1 * part(1, 5))).toBeLessThan(1e-9);
  });

  it('never returns excluded ids, and batch search equals single search', () => {
    const ix = buildBm25(docs);
    expect(search(ix, 'red shoes', 10, { exclude: new Set(['d1']) }).map((h) => h.id)).not.toContain('d1');
    const qs = ['red', 'shoes sale', '水', 'nothing'];
    expect(searchBatch(ix, qs, 2, { exclude: (qi) => new Set(qi === 0 ? ['d2'] : []) }))
      .toEqual(qs.map((q, qi) => search(ix, q, 2, { exclude: new Set(qi === 0 ? ['d2'] : []) })));
    expect(search(ix, 'nothing', 5)).toEqual([]);
    expect(() => buildBm25([docs[0]!, docs[0]!])).toThrow(/duplicate/);
  });

  it('the inverted index returns exactly what a brute-force scan returns', () => {
    const syll = ['신', '선', '수', '神', '仙', '水', 'nike', '12', '농', '心'];
    const text = fc.array(fc.constantFrom(...syll), { minLength: 1, maxLength: 8 }).map((a) => a.join(a.length % 3 ? '' : ' '));
    fc.assert(fc.property(fc.array(text, { minLength: 1, maxLength: 30 }), fc.array(text, { minLength: 1, maxLength: 5 }),
      fc.integer({ min: 1, max: 8 }), (texts, queries, k) => {
        const ds = texts.map((t, i) => ({ id: `p${i}`, text: t }));
        const ix = buildBm25(ds, { k1: 1.5, b: 0.6 });
        const ref = bm25Scan(ds, { k1: 1.5, b: 0.6 });
        for (const q of queries) expect(search(ix, q, k)).toEqual(ref.search(q, k));
      }), { numRuns: 60 });
  });

  it('turns top-k per query into pseudo pairs', () => {
    const ix = buildBm25(docs);
    const pairs = pseudoPairs(ix, [{ query_id: 'q1', query: 'shoes' }, { query_id: 'q2', query: 'shoes' }], 2);
    expect(pairs.map((p) => [p.query_id, p.product_id, p.rank])).toEqual([
      ['q1', 'd3', 0], ['q1', 'd1', 1], ['q2', 'd3', 0], ['q2', 'd1', 1], // d3: tf 2 outweighs its length
    ]);
    expect(pairs[0]!.bm25).toBeGreaterThan(pairs[1]!.bm25);
  });
});
