// Candidate sampling for knowledge distillation (section 3.5): for each query, the top M impressed
// products of the behaviour logs (popular pairs, mostly relevant) and the top N products of the EBR
// retriever (to bring in substitutes and irrelevant items), merged without duplicates. The teacher
// LLM then labels every pair with soft labels.
import type { BehaviourRecord } from '../data/schema.ts';

export interface KdSizes {
  /** Top impressed products per query. */
  M: number;
  /** Top EBR products per query. */
  N: number;
}

/** Paper values (section 6.1: M = 20, N = 100), scaled down for the smaller presets. */
export const KD_SIZES = {
  tiny: { M: 4, N: 12 },
  demo: { M: 10, N: 50 },
  paper: { M: 20, N: 100 },
} as const satisfies Record<string, KdSizes>;
export type KdPreset = keyof typeof KD_SIZES;

/** EBR retrieval: product ids, best first. It should return at least M + N, since overlaps are skipped. */
export type EbrRetriever = (query: string) => readonly string[] | Promise<readonly string[]>;

export interface KdQuery {
  market: string;
  query_id: string;
  query: string;
  /** Products with impressions > 0, by impressions (summed over log rows) descending, ties by product id. */
  impressed: string[];
}

export interface KdPair {
  market: string;
  query_id: string;
  query: string;
  product_id: string;
  source: 'impressed' | 'ebr';
}

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Groups the logs by (market, query_id) and ranks each query's products by impressions. Rows for
 * the same pair are summed, so the result does not depend on how the logs were split or ordered.
 * Queries come out sorted by market, then query_id.
 */
export function impressedByQuery(logs: readonly BehaviourRecord[]): KdQuery[] {
  const groups = new Map<string, { market: string; query_id: string; query: string; imp: Map<string, number> }>();
  for (const r of logs) {
    const key = `${r.market}\u0000${r.query_id}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { market: r.market, query_id: r.query_id, query: r.query, imp: new Map() }));
    else if (byCodeUnits(r.query, g.query) < 0) g.query = r.query; // one text per id, whatever the row order
    g.imp.set(r.product_id, (g.imp.get(r.product_id) ?? 0) + r.impressions);
  }
  return [...groups.values()]
    .sort((a, b) => byCodeUnits(a.market, b.market) || byCodeUnits(a.query_id, b.query_id))
    .map((g) => ({
      market: g.market,
      query_id: g.query_id,
      query: g.query,
      impressed: [...g.imp.entries()]
        .filter(([, n]) => n > 0)
        .sort((a, b) => b[1] - a[1] || byCodeUnits(a[0], b[0]))
        .map(([id]) => id),
    }));
}

/**
 * The merge: the first M impressed products, then EBR products not already present (nor repeated
 * within the EBR list) until the list holds M + N or the EBR list is exhausted. A query with fewer
 * than M impressed products therefore gets more EBR products, keeping pairs per query near M + N.
 */
export function mergeCandidates(
  impressed: readonly string[], ebr: readonly string[], sizes: KdSizes,
): { product_id: string; source: KdPair['source'] }[] {
  const out: { product_id: string; source: KdPair['source'] }[] = [];
  const seen = new Set<string>();
  const add = (product_id: string, source: KdPair['source']) => {
    if (seen.has(product_id)) return;
    seen.add(product_id);
    out.push({ product_id, source });
  };
  for (const id of impressed) {
    if (out.length >= sizes.M) break;
    add(id, 'impressed');
  }
  const cap = sizes.M + sizes.N;
  for (const id of ebr) {
    if (out.length >= cap) break;
    add(id, 'ebr');
  }
  return out;
}

/** All KD pairs of the logs: per query (in `impressedByQuery` order), the merged candidates. */
export async function sampleKdPairs(logs: readonly BehaviourRecord[], ebr: EbrRetriever, sizes: KdSizes): Promise<KdPair[]> {
  if (!(Number.isInteger(sizes.M) && sizes.M >= 0 && Number.isInteger(sizes.N) && sizes.N >= 0))
    throw new Error(`KD sizes must be non-negative integers, got M=${sizes.M} N=${sizes.N}`);
  const out: KdPair[] = [];
  for (const q of impressedByQuery(logs)) {
    for (const c of mergeCandidates(q.impressed, await ebr(q.query), sizes))
      out.push({ market: q.market, query_id: q.query_id, query: q.query, ...c });
  }
  return out;
}
