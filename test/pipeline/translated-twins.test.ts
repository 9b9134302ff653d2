// Translated twins (pipeline/stages/translated-twins.ts) on a generated market: every twin is a
// source training record said with the market's curated query translation and the same product's
// target listing, with the source label; no pair the target market judged is ever a twin; and the
// premise holds — where the target market judged a twin's pair, the generator gave it the same label.
import { describe, expect, it } from 'vitest';
import { generateMarket } from '../../pipeline/data/market/generate.ts';
import type { RelevanceRecord, Split } from '../../pipeline/data/schema.ts';
import { brandFinder, isTwin, translatedTwins, twinQueryId } from '../../pipeline/stages/translated-twins.ts';
import type { MarketData } from '../../pipeline/stages/market-data.ts';
import { stageLearnsTwins, stageTrainRecords } from '../../pipeline/stages/sft-stage.ts';
import { twinsSentence } from '../../pipeline/report/report.ts';

const m = generateMarket({ preset: 'tiny', seed: 4 });
const S = m.source.market, T = m.target.market;
const splits = (market: string) => Object.fromEntries((['train', 'dev', 'test'] as Split[]).map((s) => [s, m.relevance.filter((r) => r.market === market && r.split === s)])) as Record<Split, RelevanceRecord[]>;
const data = {
  source: S, target: T, translations: m.translations,
  relevance: { [S]: splits(S), [T]: splits(T) },
  catalogue: { [S]: m.catalogue.filter((c) => c.market === S), [T]: m.catalogue.filter((c) => c.market === T) },
};
const queries = new Map(m.translations.filter((t) => t.kind === 'query').map((t) => [t.source, t.target]));
const listings = new Map(data.catalogue[T]!.map((c) => [c.product_id, c]));
const judged = new Map(Object.values(data.relevance[T]!).flat().map((r) => [`${r.query}\u0000${r.product_id}`, r]));

describe('translatedTwins', () => {
  const twins = translatedTwins(data);
  const src = data.relevance[S]!.train;

  it('says every eligible source training record in the target language, label and truth kept, in source order', () => {
    const eligible = src.filter((r) => queries.has(r.query) && listings.has(r.product_id) && !judged.has(`${queries.get(r.query)}\u0000${r.product_id}`));
    expect(eligible.length).toBeGreaterThan(0);
    expect(twins).toHaveLength(eligible.length);
    twins.forEach((t, i) => {
      const r = eligible[i]!;
      const c = listings.get(r.product_id)!;
      expect(t).toMatchObject({
        query_id: twinQueryId(r.query_id, T), product_id: r.product_id, market: T, language: c.language, split: 'train', intent: r.intent,
        query: queries.get(r.query), product_title: c.product_title, product_description: c.product_description,
        product_brand: c.product_brand, product_category: c.product_category, label: r.label, true_label: r.true_label, rqa: [], pair_id: '',
      });
      expect(isTwin(t)).toBe(true);
    });
    expect(src.some(isTwin) || Object.values(data.relevance[T]!).flat().some(isTwin)).toBe(false);
  });

  it('never makes a twin of a pair the target market judged (train, dev or test)', () => {
    for (const t of twins) expect(judged.has(`${t.query}\u0000${t.product_id}`)).toBe(false);
  });

  it('rests on a premise the market keeps: where both markets judged a (query, product) pair, in any split, the generator labels agree', () => {
    let n = 0;
    for (const r of Object.values(data.relevance[S]!).flat()) {
      const j = judged.get(`${queries.get(r.query)}\u0000${r.product_id}`);
      if (!queries.has(r.query) || !j) continue;
      n++;
      expect(j.true_label, `${r.query} / ${r.product_id}`).toBe(r.true_label);
    }
    expect(n).toBeGreaterThan(0);
  });

  it('reads the query brand as the target market does on most of its own queries', () => {
    const find = brandFinder([...m.translations.filter((t) => t.kind === 'brand').map((t) => t.target), ...data.catalogue[T]!.map((c) => c.product_brand), ...src.map((r) => r.query_brand).filter((b) => /^[\x20-\x7e]+$/.test(b))]);
    const own = Object.values(data.relevance[T]!).flat();
    const same = own.filter((r) => find(r.query) === r.query_brand).length;
    expect(same / own.length).toBeGreaterThan(0.85); // the rest: brands the market finds inside nicknames
  });

  it('refuses a market without query translations or without a target catalogue', () => {
    expect(() => translatedTwins({ ...data, translations: m.translations.filter((t) => t.kind !== 'query') })).toThrow(/no query translations/);
    expect(() => translatedTwins({ ...data, catalogue: { [S]: data.catalogue[S]! } })).toThrow(new RegExp(`no ${T} catalogue`));
  });
});

describe('the twins in a stage', () => {
  const d = data as unknown as MarketData;
  const twins = translatedTwins(data);
  const src = data.relevance[S]!.train;

  it('Stage 1 learns the source labels, and the twins after them only when asked; Stage 2 ends with them when asked', () => {
    expect(stageTrainRecords(d, 1, 1, 11)).toEqual(src);
    expect(stageTrainRecords(d, 1, 1, 11, true)).toEqual([...src, ...twins]);
    const s2 = stageTrainRecords(d, 2, 1, 11, true);
    expect(s2.slice(0, src.length)).toEqual(src);
    expect(s2.slice(-twins.length)).toEqual(twins);
    expect(stageTrainRecords(d, 2, 1, 11).some(isTwin)).toBe(false);
  });

  it('sft.translatedTwins reaches Stage 2 only; sft.twinsWithTranslation only Stage 1\'s runs with the translation task', () => {
    for (const translatedTwins of [false, true]) for (const twinsWithTranslation of [false, true]) for (const mt of [false, true]) {
      const s = { translatedTwins, twinsWithTranslation };
      expect(stageLearnsTwins(2, mt, s)).toBe(translatedTwins);
      expect(stageLearnsTwins(1, mt, s)).toBe(mt && twinsWithTranslation);
    }
  });
});

describe('the report on the twins', () => {
  it('says nothing without them, and names the stages and knobs that learn them (an extension, not the paper)', () => {
    expect(twinsSentence({ translatedTwins: false, twinsWithTranslation: false })).toBe('');
    const s2 = twinsSentence({ translatedTwins: true, twinsWithTranslation: false });
    expect(s2).toMatch(/Not in the paper: Stage 2 and the rounds continuing it \(sft.translatedTwins\)/);
    expect(s2).not.toMatch(/twinsWithTranslation|zero-shot/);
    const both = twinsSentence({ translatedTwins: true, twinsWithTranslation: true });
    expect(both).toMatch(/translation task \(sft.twinsWithTranslation\) and Stage 2/);
    expect(both).toMatch(/stays zero-shot/);
    expect(s2).not.toMatch(/twinsSide/);
    expect(twinsSentence({ translatedTwins: true, twinsWithTranslation: false, twinsSide: 'source' })).toBe(s2);
    expect(twinsSentence({ translatedTwins: true, twinsWithTranslation: false, twinsSide: 'target' })).toMatch(/count with the target-market labels, both repeated together \(sft.twinsSide\)\.$/);
    expect(twinsSentence({ translatedTwins: false, twinsWithTranslation: false, twinsSide: 'target' })).toBe('');
  });
});

describe('brandFinder', () => {
  it('takes the longest name at the earliest position, case-insensitively; empty when none', () => {
    const f = brandFinder(['北臉', 'Jinro', '北臉童裝', 'NIKE']);
    expect(f('北臉童裝外套')).toBe('北臉童裝');
    expect(f('jinro 燒酒')).toBe('Jinro');
    expect(f('外套 nike 北臉')).toBe('NIKE');
    expect(f('燒酒')).toBe('');
  });
});
