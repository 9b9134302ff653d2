// Offline evaluation of a pair of online towers on labelled query-product records: the Table 3
// rows (EM and defect tasks) and the section 6.2 ranking simulation (EM@1, Defect@5), with the
// probabilities computed exactly as `csrm serve` computes them: σ(s·cos) of query and title towers.
// Per-pair predictions and per-query outcomes are kept, one digit each, for paired comparisons.
import type { RelevanceRecord } from '../data/schema.ts';
import { fingerprint, toDigits } from '../eval/sample-predictions.ts';
import { rankingMetrics, rankingOutcomes, table3Metrics, type BinaryMetrics, type RankedCandidate, type RankingMetrics } from './metrics.ts';
import { relevanceProb } from './rank.ts';
import type { OnlineModels, TowerModel } from './types.ts';

export interface OnlineEvaluation {
  pairs: number;
  table3: { defect: BinaryMetrics; exactMatch: BinaryMetrics };
  ranking: RankingMetrics;
  /** Per record: predicted exact (EM ≥ threshold) and predicted defect (defect ≥ threshold). */
  perSample: { em: string; defect: string };
  /** Per query, in first-appearance order (ids hashed in `fingerprint`): EM@1 hit, first page free of defects. */
  perQuery: { n: number; fingerprint: string; em1: string; clean5: string };
}

const dot = (a: Float32Array, b: Float32Array) => {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j]! * b[j]!;
  return s;
};

/** σ(s·cos) for every record, each distinct query and title encoded once. */
export async function pairProbs(tower: TowerModel, records: readonly RelevanceRecord[]): Promise<number[]> {
  const queries = [...new Set(records.map((r) => r.query))];
  const titles = [...new Set(records.map((r) => r.product_title))];
  const qe = new Map(queries.map((q, i) => [q, i]));
  const ie = new Map(titles.map((t, i) => [t, i]));
  const qv = await tower.encodeQueries(queries);
  const iv = await tower.encodeItems(titles.map((text, i) => ({ id: String(i), text })));
  return records.map((r) => relevanceProb(dot(qv[qe.get(r.query)!]!, iv[ie.get(r.product_title)!]!), tower.scale));
}

/**
 * Queries are grouped by (market, query_id), or by the query text where query_id is empty
 * (imported data); candidates keep the record order, which breaks EM ties as `POST /rank` does.
 */
export async function evaluateOnline(models: OnlineModels, records: readonly RelevanceRecord[], threshold = 0.5): Promise<OnlineEvaluation> {
  return evaluateProbs(records, await pairProbs(models.em, records), await pairProbs(models.defect, records), threshold);
}

/** Table 3 and the ranking simulation from each record's EM and defect probabilities (towers or the teacher). */
export function evaluateProbs(records: readonly RelevanceRecord[], em: readonly number[], defect: readonly number[], threshold = 0.5): OnlineEvaluation {
  if (em.length !== records.length || defect.length !== records.length) throw new Error(`evaluateProbs: ${records.length} records, ${em.length} EM and ${defect.length} defect probabilities`);
  const groups = new Map<string, RankedCandidate[]>();
  records.forEach((r, i) => {
    const key = `${r.market}\u0000${r.query_id || `text:${r.query}`}`;
    const g = groups.get(key) ?? [];
    g.push({ product_id: r.product_id, label: r.label, em: em[i]!, defect: defect[i]! });
    groups.set(key, g);
  });
  const queries = [...groups.values()];
  const outcomes = rankingOutcomes(queries, threshold);
  return {
    pairs: records.length,
    table3: table3Metrics(records.map((r) => r.label), em, defect, threshold),
    ranking: rankingMetrics(queries, threshold),
    perSample: { em: toDigits(em.map((p) => p >= threshold), 'EM predictions'), defect: toDigits(defect.map((p) => p >= threshold), 'defect predictions') },
    perQuery: { n: queries.length, fingerprint: fingerprint([...groups.keys()]), em1: toDigits(outcomes.em1, 'EM@1'), clean5: toDigits(outcomes.clean5, 'Defect@5') },
  };
}
