// KD pairs → the relevance records the teacher LLM scores (section 3.5: "the LLM labels every
// candidate pair with soft labels"). The product side comes from the market's catalogue listing;
// the query brand is left empty (no dictionary match at this step) and the label fields are unused
// placeholders (0 / −1): the teacher reads only the prompt fields, and nothing trains on `label`.
import type { CatalogueRecord, RelevanceRecord } from '../data/schema.ts';
import type { KdPair } from './kd-data.ts';

export function kdRecords(pairs: readonly KdPair[], catalogue: readonly CatalogueRecord[], language: string): RelevanceRecord[] {
  const byId = new Map(catalogue.map((c) => [c.product_id, c]));
  return pairs.map((p, i) => {
    const c = byId.get(p.product_id);
    if (!c) throw new Error(`KD pair ${i} (query ${p.query_id} "${p.query}"): product ${p.product_id} is not in the ${p.market} catalogue`);
    return {
      query_id: p.query_id, product_id: p.product_id, pair_id: '', market: p.market, language, split: 'train', intent: 'unknown',
      query: p.query, query_brand: '', product_title: c.product_title, product_description: c.product_description,
      product_brand: c.product_brand, product_category: c.product_category, rqa: [], label: 0, true_label: -1,
    };
  });
}
