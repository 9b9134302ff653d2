// Dictionary code-switching (pipeline/stages/code-switch.ts): the dictionary is read both ways, a
// switch swaps whole dictionary terms and nothing else, and a fine-tuning set's code-switched records
// keep their labels, ids and order, touch only the source market, and number about the share asked.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rng } from '../../engine/random.ts';
import type { RelevanceRecord } from '../../pipeline/data/schema.ts';
import { pair, PAIRS } from './fixtures/dictionary-pairs.ts';
import { codeSwitch, codeSwitchSource, termDictionary } from '../../pipeline/stages/code-switch.ts';


describe('termDictionary', () => {
  it('reads brand and category pairs both ways, splits category paths, and puts longer terms first', () => {
    const d = new Map(termDictionary(PAIRS));
    expect(d.get('컨버스')).toEqual(['匡威']);
    expect(d.get('匡威')).toEqual(['컨버스']);
    expect(d.get('디지털')).toEqual(['3C配件']);
    expect(d.get('行動電源')).toEqual(['보조배터리']);
    expect(d.has('삼성 보조배터리')).toBe(false);
    const lens = termDictionary(PAIRS).map(([t]) => t.length);
    expect(lens).toEqual([...lens].sort((a, b) => b - a));
  });
});

describe('codeSwitch', () => {
  const dict = termDictionary(PAIRS);
  const word = fc.constantFrom('컨버스', '보조배터리', '디지털', '匡威', '行動電源', ' ', '신발', '2개', '>', 'x');
  const text = fc.array(word, { maxLength: 12 }).map((ws) => ws.join(''));

  it('p = 0 leaves any text as it is', () => {
    fc.assert(fc.property(text, fc.integer(), (s, seed) => codeSwitch(s, dict, rng(seed), 0) === s));
  });

  it('p = 1 swaps every term; swapping back restores a text of one-to-one terms', () => {
    const r = rng(3);
    const s = '컨버스 신발, 디지털 > 보조배터리 2개';
    const t = codeSwitch(s, dict, r, 1);
    expect(t).toBe('匡威 신발, 3C配件 > 行動電源 2개');
    expect(codeSwitch(t, dict, r, 1)).toBe(s);
  });

  it('text outside the dictionary passes through untouched at any p', () => {
    fc.assert(fc.property(fc.string({ maxLength: 20 }).filter((s) => !dict.some(([t]) => s.includes(t))), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer(),
      (s, p, seed) => codeSwitch(s, dict, rng(seed), p) === s));
  });
});
const record = (market: string, i: number, text: string, label: 0 | 1 | 2): RelevanceRecord => ({
  query_id: `${market}-Q${i}`, product_id: `P${i}`, pair_id: '', market, language: market === 'KR' ? 'ko' : 'zh-Hant', split: 'train', intent: 'brand',
  query: `${text} 신발`, query_brand: text.includes('컨버스') ? '컨버스' : '', product_title: `${text} 2개`, product_description: `${text} 설명`,
  product_brand: '컨버스', product_category: '디지털 > 보조배터리', rqa: [], label, true_label: label,
});

/** Every dictionary term, in either language, as one canonical spelling (the dictionary is one-to-one). */
function canonical(s: string): string {
  const dict = termDictionary(PAIRS);
  const key = new Map(dict.map(([t, tr]) => [t, [t, ...tr].sort()[0]!]));
  let out = '';
  let i = 0;
  outer: while (i < s.length) {
    for (const [t] of dict) {
      if (s.startsWith(t, i)) { out += key.get(t)!; i += t.length; continue outer; }
    }
    out += s[i++];
  }
  return out;
}

describe('codeSwitchSource', () => {
  const texts = fc.constantFrom('컨버스', '보조배터리 컨버스', '디지털', 'x', '匡威');
  const recs = fc.array(fc.tuple(fc.constantFrom('KR', 'TW'), texts, fc.constantFrom(0 as const, 1 as const, 2 as const)), { maxLength: 30 })
    .map((rows) => rows.map(([m, t, l], i) => record(m, i, t, l)));

  it('share 0 returns the records as they are', () => {
    fc.assert(fc.property(recs, fc.integer(), (rs, seed) => {
      expect(codeSwitchSource(rs, 'KR', PAIRS, 0, seed)).toEqual(rs);
    }));
  });

  it('keeps labels, ids, markets and order; leaves target-market records alone; changes only dictionary terms', () => {
    fc.assert(fc.property(recs, fc.double({ min: 0, max: 1, noNaN: true }), fc.integer(), (rs, share, seed) => {
      const out = codeSwitchSource(rs, 'KR', PAIRS, share, seed);
      expect(out).toHaveLength(rs.length);
      out.forEach((o, i) => {
        const r = rs[i]!;
        expect([o.query_id, o.product_id, o.market, o.label, o.true_label, o.intent, o.split]).toEqual([r.query_id, r.product_id, r.market, r.label, r.true_label, r.intent, r.split]);
        if (r.market !== 'KR') expect(o).toBe(r);
        for (const f of ['query', 'query_brand', 'product_title', 'product_brand', 'product_category', 'product_description'] as const) expect(canonical(o[f])).toBe(canonical(r[f]));
      });
    }));
  });

  it('is a function of the records, dictionary, share and seed', () => {
    fc.assert(fc.property(recs, fc.integer(), (rs, seed) => {
      expect(codeSwitchSource(rs, 'KR', PAIRS, 0.5, seed)).toEqual(codeSwitchSource(rs, 'KR', PAIRS, 0.5, seed));
    }));
  });

  it('switches about the share asked of the source records (binomial bounds), and at share 1 every one of them', () => {
    const rs = Array.from({ length: 2000 }, (_, i) => record(i % 4 === 0 ? 'TW' : 'KR', i, '컨버스 보조배터리', 1));
    const src = rs.filter((r) => r.market === 'KR').length;
    const touched = (out: RelevanceRecord[]) => out.filter((o, i) => o !== rs[i]).length;
    for (const share of [0.2, 0.5]) {
      const n = touched(codeSwitchSource(rs, 'KR', PAIRS, share, 7));
      const sd = Math.sqrt(src * share * (1 - share));
      expect(Math.abs(n - src * share)).toBeLessThan(4 * sd);
    }
    const all = codeSwitchSource(rs, 'KR', PAIRS, 1, 7);
    expect(touched(all)).toBe(src);
    // with five terms per record at p = 0.5, some terms of nearly every record are swapped
    expect(all.filter((o, i) => o.market === 'KR' && JSON.stringify(o) !== JSON.stringify(rs[i])).length).toBeGreaterThan(0.9 * src);
  });

  it('refuses a share outside [0, 1], and a market without brand or category pairs', () => {
    const rs = [record('KR', 0, '컨버스', 2)];
    expect(() => codeSwitchSource(rs, 'KR', PAIRS, 1.5, 1)).toThrow(/share 1.5 outside/);
    expect(() => codeSwitchSource(rs, 'KR', PAIRS, -0.1, 1)).toThrow(/share -0.1 outside/);
    expect(() => codeSwitchSource(rs, 'KR', [pair('title', 'a', 'b')], 0.5, 1)).toThrow(/no brand or category translation pairs/);
    expect(codeSwitchSource(rs, 'KR', [], 0, 1)).toEqual(rs);
  });
});
