// The task's ceiling: every generated label can be decided from the text a rater sees (the query and
// the listing), which the rule-based oracle checks by reading the text back and judging it; and the
// oracle really reads the text — change what the listing says and its verdict follows.
import { describe, expect, it } from 'vitest';
import { generateMarket } from '../../pipeline/data/market/generate.ts';
import { decidability, TextOracle } from '../../pipeline/data/market/oracle.ts';

describe('text oracle (DATA_CARD: the ceiling)', () => {
  const m = generateMarket({ preset: 'tiny', seed: 5 });
  const lang = (market: string) => (market === m.source.market ? m.source.language : m.target.language);

  for (const market of [m.source.market, m.target.market]) {
    it(`decides every ${market} label from the visible text`, () => {
      const recs = m.relevance.filter((r) => r.market === market);
      const d = decidability(m.lexicon, lang(market), recs);
      expect(d.misses).toEqual([]);
      expect(d.decidable).toBe(1);
    });
  }

  it('follows the text: another colour in the listing turns an exact colour query into a substitute', () => {
    const o = new TextOracle(m.lexicon, m.source.language);
    const colours = m.lexicon.attributes.colour.map((c) => (c as Record<string, unknown>)[m.source.language] as string[]);
    const withColour = m.relevance.filter((r) => r.market === m.source.market && r.true_label === 2 && r.intent === 'type_attr'
      && colours.some((fs) => fs.some((f) => r.query.includes(f))));
    expect(withColour.length).toBeGreaterThan(0);
    let flipped = 0;
    for (const r of withColour) {
      const said = colours.find((fs) => fs.some((f) => r.query.includes(f)))!;
      const other = colours.find((fs) => fs !== said)![0]!;
      const swap = (s: string) => said.reduce((t, f) => t.split(f).join(other), s);
      const changed = { ...r, product_title: swap(r.product_title), product_description: swap(r.product_description) };
      expect(o.label(r)).toBe(2);
      if (o.label(changed) === 1) flipped++;
    }
    expect(flipped).toBe(withColour.length);
  });

  it('has no verdict when the listing names no product type', () => {
    const r = m.relevance[0]!;
    expect(new TextOracle(m.lexicon, lang(r.market)).label({ ...r, product_category: 'x', product_title: 'x', product_description: 'x' })).toBeNull();
  });
});

it('decides the labels of the second lexicon\'s market from the text too', () => {
  const m = generateMarket({ preset: 'tiny', seed: 5, lexicon: new URL('../../pipeline/data/lexicon/home-hobby-kr-tw.json', import.meta.url).pathname });
  for (const l of [m.source, m.target]) {
    const d = decidability(m.lexicon, l.language, m.relevance.filter((r) => r.market === l.market));
    expect(d.misses, l.market).toEqual([]);
  }
});
