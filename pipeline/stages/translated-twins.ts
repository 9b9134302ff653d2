// Translated twins (`sft.translatedTwins`): source-market training samples said in the target
// language with the market's own curated data — the query's human translation (translation/query,
// section 4.1.2, the translation task's data) and the same product's target-market listing
// (catalogue/<target>: a product sold in both markets) — with the source label kept. A relevance
// label is a fact about the query's intent and the product, not about the language it is written
// in: on the demo market every twin that the target market also judged carries the same generator
// label. Unlike translating the training data with a generic translator (section 3.2's objection:
// domain errors in 30% of pairs), nothing here is machine-translated. A twin whose (query, product)
// the target market judged in any split is left out, so no target dev or test pair — and no target
// training pair, which has its own label — is ever learned through its twin.
import type { CatalogueRecord, RelevanceRecord } from '../data/schema.ts';
import type { MarketData } from './market-data.ts';

/** A twin's query id: the source query's id and the target market (never a target query's own id). */
export const twinQueryId = (sourceQueryId: string, target: string) => `${sourceQueryId}@${target}`;

/** Whether a record is a translated twin: its query id ends in "@" and its own market. */
export const isTwin = (r: Pick<RelevanceRecord, 'query_id' | 'market'>) => r.query_id.endsWith(`@${r.market}`);

/**
 * The brand a target-language query names, read the way the market reads its queries' brands: the
 * longest known brand name (the brand dictionary's target side, the target catalogue's brands, and
 * Latin names the source queries name) at the earliest position, case-insensitively; '' when none.
 */
export function brandFinder(names: Iterable<string>): (query: string) => string {
  const list = [...new Set([...names].map((n) => n.trim()).filter(Boolean))].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  const lower = list.map((n) => n.toLowerCase());
  return (query: string) => {
    const q = query.toLowerCase();
    for (let i = 0; i < q.length; i++) for (let k = 0; k < list.length; k++) if (q.startsWith(lower[k]!, i)) return list[k]!;
    return '';
  };
}

/**
 * Every source training record whose query has a curated translation and whose product has a
 * target-market listing, as a target-language record: the translated query, its brand, the target
 * listing's fields, the same (noisy) label and generator truth; market and language of the target.
 * In source order; pairs the target market judged (any split) are left out.
 */
export function translatedTwins(d: Pick<MarketData, 'source' | 'target' | 'relevance' | 'translations' | 'catalogue'>): RelevanceRecord[] {
  const queries = new Map<string, string>();
  for (const t of d.translations) if (t.kind === 'query' && !queries.has(t.source)) queries.set(t.source, t.target);
  const listings = new Map<string, CatalogueRecord>((d.catalogue[d.target] ?? []).map((c) => [c.product_id, c]));
  const src = d.relevance[d.source]?.train ?? [];
  if (queries.size === 0) throw new Error(`sft.translatedTwins: the market has no query translations (translation/query.*) to say ${d.source} queries in ${d.target}`);
  if (listings.size === 0) throw new Error(`sft.translatedTwins: the market has no ${d.target} catalogue (catalogue/${d.target}.*) to take listings from`);
  const judged = new Set<string>();
  for (const split of Object.values(d.relevance[d.target] ?? {})) for (const r of split) judged.add(`${r.query}\u0000${r.product_id}`);
  const brand = brandFinder([
    ...d.translations.filter((t) => t.kind === 'brand').map((t) => t.target),
    ...[...listings.values()].map((c) => c.product_brand),
    ...src.map((r) => r.query_brand).filter((b) => /^[\x20-\x7e]+$/.test(b)),
  ]);
  const out: RelevanceRecord[] = [];
  for (const r of src) {
    const query = queries.get(r.query);
    const c = listings.get(r.product_id);
    if (query === undefined || !c || judged.has(`${query}\u0000${r.product_id}`)) continue;
    out.push({
      ...r, query_id: twinQueryId(r.query_id, d.target), pair_id: '', market: d.target, language: c.language,
      query, query_brand: brand(query), product_title: c.product_title, product_description: c.product_description,
      product_brand: c.product_brand, product_category: c.product_category, rqa: [],
    });
  }
  return out;
}
