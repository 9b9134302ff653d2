// User behaviour: search sessions in which a ranked list of 10 is shown, users examine positions
// with a decaying probability (position bias) and click and buy according to the true relevance.
// Counts are aggregated per query-product pair. The target market gets far fewer sessions: the
// "sparse user conversion data" of Stage 2.
import type { BehaviourRecord, Label } from '../schema.ts';
import type { Rng } from './rng.ts';

export const LIST_LENGTH = 10;
const EXAMINE_DECAY = 0.8;
const CLICK_GIVEN_SEEN: Record<Label, number> = { 0: 0.03, 1: 0.2, 2: 0.5 };
const BUY_GIVEN_CLICK: Record<Label, number> = { 0: 0.01, 1: 0.06, 2: 0.25 };
/** How noisy the engine's ranking is relative to the true relevance. */
const RANK_NOISE = 0.8;

export interface SessionQuery {
  queryId: string;
  text: string;
  /** Label of every catalogue product for this query, by product index. */
  labels: Label[];
}

export function examineProbability(position: number): number {
  return 1 / Math.pow(position, EXAMINE_DECAY);
}

export function simulateSessions(
  market: string, queries: SessionQuery[], productIds: string[], sessions: number, rng: Rng,
): BehaviourRecord[] {
  // Popularity is Zipf-like over a shuffled order, so head queries recur and tail ones are rare.
  const order = rng.shuffle([...queries.keys()]);
  const weights = order.map((_, rank) => 1 / Math.pow(rank + 1, 0.9));
  const pools = queries.map((q) => {
    const rel: number[] = [], irr: number[] = [];
    q.labels.forEach((l, i) => (l > 0 ? rel : irr).push(i));
    return { rel, irr };
  });
  const agg = new Map<string, BehaviourRecord>();
  for (let s = 0; s < sessions; s++) {
    const qi = order[rng.weighted(weights)];
    const q = queries[qi];
    const { rel, irr } = pools[qi];
    const cand = new Set<number>();
    for (let k = 0; k < 30 && cand.size < Math.min(rel.length, 20); k++) cand.add(rng.pick(rel));
    for (let k = 0; k < 8 && irr.length; k++) cand.add(rng.pick(irr));
    const shown = [...cand]
      .map((i) => ({ i, score: q.labels[i] + RANK_NOISE * rng.normal() }))
      .sort((a, b) => b.score - a.score || a.i - b.i)
      .slice(0, LIST_LENGTH);
    shown.forEach(({ i }, pos) => {
      const key = `${q.queryId}\u0000${productIds[i]}`;
      let rec = agg.get(key);
      if (!rec) {
        rec = { market, query_id: q.queryId, query: q.text, product_id: productIds[i], impressions: 0, clicks: 0, purchases: 0 };
        agg.set(key, rec);
      }
      rec.impressions++;
      const label = q.labels[i];
      if (rng.chance(examineProbability(pos + 1)) && rng.chance(CLICK_GIVEN_SEEN[label])) {
        rec.clicks++;
        if (rng.chance(BUY_GIVEN_CLICK[label])) rec.purchases++;
      }
    });
  }
  return [...agg.values()].sort((a, b) => (a.query_id < b.query_id ? -1 : a.query_id > b.query_id ? 1 : a.product_id < b.product_id ? -1 : 1));
}
