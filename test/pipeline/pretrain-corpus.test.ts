// The base model's pretraining corpus: parallel documents pair one product's two listings, and the
// recipes differ only in the parts they add (the code-switching itself: code-switch.test.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CatalogueRecord } from '../../pipeline/data/schema.ts';
import { PAIRS } from './fixtures/dictionary-pairs.ts';
import { behaviourDocs, pretrainTexts } from '../../pipeline/stages/pretrain-corpus.ts';


const listing = (market: string, id: string, title: string, category: string): CatalogueRecord => ({
  market, language: market === 'KR' ? 'ko' : 'zh-Hant', product_id: id, product_title: title,
  product_description: `${title} 설명`, product_brand: '', product_category: category,
});

describe('pretrainTexts', () => {
  const data = {
    source: 'KR', target: 'TW', translations: PAIRS,
    catalogue: {
      KR: [listing('KR', 'P1', '컨버스 신발', '패션 > 신발'), listing('KR', 'P2', '삼성 보조배터리', '디지털 > 보조배터리')],
      TW: [listing('TW', 'P2', '三星 行動電源', '3C配件 > 行動電源'), listing('TW', 'P3', '匡威 帆布鞋', '鞋類 > 帆布鞋')],
    },
  };

  it('listings-v2: one document per listing of both markets', () => {
    const t = pretrainTexts(data, 7, 'listings-v2');
    expect(t).toHaveLength(4);
    expect(t).toContain('컨버스 신발 패션 > 신발 컨버스 신발 설명');
  });

  it('the bilingual recipe adds one parallel document per product listed in both markets and a code-switched copy of each listing', () => {
    const t = pretrainTexts(data, 7, 'listings-bilingual-v1');
    expect(t).toHaveLength(4 + 1 + 4);
    const parallel = t.filter((x) => x.includes(' = '));
    expect(parallel).toHaveLength(1);
    expect(parallel[0]!.split(' = ').sort()).toEqual(['三星 行動電源 3C配件 > 行動電源', '삼성 보조배터리 디지털 > 보조배터리']);
    // deterministic for a seed
    expect(pretrainTexts(data, 7, 'listings-bilingual-v1')).toEqual(t);
  });

  it('an unknown recipe is an error that names it', () => {
    expect(() => pretrainTexts(data, 7, 'nope')).toThrow(/unknown corpus recipe "nope"/);
  });
});

describe('behaviourDocs (query likelihood from the source market\'s clicks)', () => {
  const kr = [listing('KR', 'P1', '컨버스 신발', '패션 > 신발'), listing('KR', 'P2', '삼성 보조배터리', '디지털 > 보조배터리')];
  const click = (market: string, query: string, product_id: string, clicks: number) =>
    ({ market, query_id: `${market}-${query}`, query, product_id, impressions: clicks + 3, clicks, purchases: 0 });
  const rel = (query: string, split: 'train' | 'dev' | 'test') => ({ query, split }) as unknown as import('../../pipeline/data/schema.ts').RelevanceRecord;
  const data = {
    source: 'KR', target: 'TW', translations: PAIRS,
    catalogue: { KR: kr, TW: [listing('TW', 'P2', '三星 行動電源', '3C配件 > 行動電源')] },
    behaviour: {
      KR: [click('KR', '컨버스', 'P1', 5), click('KR', '보조배터리', 'P2', 1), click('KR', '보조배터리', 'P1', 0), click('KR', '삼성 보조배터리', 'P2', 2), click('KR', '없는 상품', 'P9', 4)],
      TW: [click('TW', '行動電源', 'P2', 9)],
    },
    relevance: { KR: { train: [rel('컨버스', 'train')], dev: [rel('삼성 보조배터리', 'dev')], test: [] }, TW: { train: [], dev: [], test: [rel('行動電源', 'test')] } },
  };

  it('one document per click (at most 3 per pair), the listing in the prompt\'s layout and the query last', () => {
    const docs = behaviourDocs(data);
    expect(docs.filter((d) => d.endsWith('query: 컨버스'))).toHaveLength(3);
    expect(docs.filter((d) => d.endsWith('query: 보조배터리'))).toHaveLength(1);
    expect(docs).toHaveLength(4);
    expect(docs[0]!.split('\n')[0]).toBe('title: 컨버스 신발');
  });

  it('never uses the target market, unclicked pairs, unlisted products or the queries of the dev and test sets', () => {
    const docs = behaviourDocs(data).join('\n');
    for (const never of ['行動電源', '없는 상품', 'query: 삼성']) expect(docs).not.toContain(never);
    fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom('컨버스', '보조배터리', '삼성 보조배터리'), fc.constantFrom('P1', 'P2'), fc.nat(6))), (rows) => {
      const d = behaviourDocs({ ...data, behaviour: { KR: rows.map(([q, p, c]) => click('KR', q, p, c)) } });
      return d.length === rows.filter(([q, , c]) => q !== '삼성 보조배터리' && c > 0).reduce((n, [, , c]) => n + Math.min(c, 3), 0)
        && d.every((x) => !x.endsWith('query: 삼성 보조배터리'));
    }));
  });

  it('the behaviour recipe adds them (half code-switched) to the bilingual corpus; without a log it says what is missing', () => {
    const t = pretrainTexts(data, 7, 'listings-behaviour-v1');
    expect(t.length).toBe(pretrainTexts(data, 7, 'listings-bilingual-v1').length + 4);
    expect(() => pretrainTexts({ ...data, behaviour: {} }, 7, 'listings-behaviour-v1')).toThrow(/behaviour log/);
  });
});
