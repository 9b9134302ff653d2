// Pseudo query-product pairs (section 3.3): in a market without behaviour, BM25's top-k products
// per query stand in for clicked products. They are noisy; the LLM conversion ranker scores them
// later and the EBR model is distilled from those scores (eq. 1).
import { search, type Bm25Index } from './bm25.ts';

export interface PseudoQuery {
  query_id: string;
  query: string;
}

export interface PseudoPair {
  query_id: string;
  query: string;
  product_id: string;
  /** 0-based BM25 rank within the query. */
  rank: number;
  bm25: number;
}

/** BM25 top-k per query as pairs; a query text asked twice is searched once. */
export function pseudoPairs(index: Bm25Index, queries: readonly PseudoQuery[], k: number): PseudoPair[] {
  const cache = new Map<string, ReturnType<typeof search>>();
  const out: PseudoPair[] = [];
  for (const q of queries) {
    let hits = cache.get(q.query);
    if (!hits) cache.set(q.query, (hits = search(index, q.query, k)));
    hits.forEach((h, rank) => out.push({ query_id: q.query_id, query: q.query, product_id: h.id, rank, bm25: h.score }));
  }
  return out;
}
