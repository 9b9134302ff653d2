// encodeRelevance keeps the prompt ids of each record it encoded (per tokenizer and maxLen): a run
// encodes the same records in every stage. What it returns must be what encoding afresh gives.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { RelevanceRecord } from '../../pipeline/data/schema.ts';
import { encodeRelevance } from '../../pipeline/stages/encode.ts';
import type { Tokenizer } from '../../pipeline/tokenizer/tokenizer.ts';

/** One id per character (its code point), counting every call into it. */
function charTokenizer(): Tokenizer & { calls: number } {
  const t = {
    calls: 0,
    encode(s: string) {
      t.calls++;
      return [...s].map((c) => c.codePointAt(0)! + 10);
    },
    decode: (ids: number[]) => String.fromCodePoint(...ids.map((i) => i - 10)),
    pieces: (s: string) => [...s],
    pieceId: () => 1,
    piece: () => '?',
    count(s: string) {
      t.calls++;
      return [...s].length;
    },
    vocabSize: 70000, pad: 0, unk: 1, bos: 2, eos: 3,
    labelTokenIds: [4, 5, 6] as const,
  };
  return t;
}

const base: RelevanceRecord = {
  query_id: 'q1', product_id: 'p1', pair_id: '', market: 'KR', language: 'ko', split: 'train', intent: 'brand_type',
  query: '스탠리컵', query_brand: '스탠리', product_title: '락앤락 텀블러 500ml', product_description: '매일 쓰기 좋은 주방용품 상품. '.repeat(5),
  product_brand: '락앤락', product_category: '주방용품 > 텀블러', rqa: [], label: 0, true_label: 0,
};

describe('encodeRelevance cache', () => {
  it('encodes a record once per tokenizer and maxLen; label, soft labels and ids outside the prompt are its own', () => {
    const tok = charTokenizer();
    const a = encodeRelevance(tok, base, 150);
    const calls = tok.calls;
    expect(calls).toBeGreaterThan(1); // the description had to be cut: several counts
    const b = encodeRelevance(tok, { ...base, product_id: 'p2', label: 2 }, 150, [0.1, 0.2, 0.7]);
    expect(tok.calls).toBe(calls);
    expect(b.ids).toEqual(a.ids);
    expect([b.hard, b.soft]).toEqual([2, [0.1, 0.2, 0.7]]);
    expect(Object.isFrozen(a.ids)).toBe(true);
    // another maxLen fits the prompt anew
    expect(encodeRelevance(tok, base, 130).ids.length).toBeLessThanOrEqual(130);
    expect(tok.calls).toBeGreaterThan(calls);
  });

  it('gives what a fresh tokenizer gives, for records that differ in any one field the prompt shows', () => {
    const tok = charTokenizer();
    const field = fc.constantFrom('query', 'query_brand', 'product_title', 'product_brand', 'product_category', 'product_description', 'rqa');
    const set = (r: RelevanceRecord, f: string, v: string) => {
      if (f === 'rqa') r.rqa = v ? [v, `${v}!`] : [];
      else (r as unknown as Record<string, unknown>)[f] = f === 'query' || f === 'product_title' ? v || 'x' : v;
    };
    const text = fc.string({ minLength: 0, maxLength: 12 });
    fc.assert(
      fc.property(fc.array(fc.tuple(field, text), { maxLength: 6 }), field, text, fc.constantFrom(150, 190), (edits, f, v, maxLen) => {
        const r: RelevanceRecord = { ...base, rqa: [...base.rqa] };
        for (const [g, w] of edits) set(r, g, w);
        const cached = encodeRelevance(tok, r, maxLen).ids;
        expect(encodeRelevance(tok, r, maxLen).ids).toBe(cached);
        expect(cached).toEqual(encodeRelevance(charTokenizer(), r, maxLen).ids);
        // the same record but for one field: its own prompt, not the cached one
        const r2: RelevanceRecord = { ...r, rqa: [...r.rqa] };
        set(r2, f, `${v}~`);
        expect(encodeRelevance(tok, r2, maxLen).ids).toEqual(encodeRelevance(charTokenizer(), r2, maxLen).ids);
      }),
      { numRuns: 300 },
    );
  });
});
