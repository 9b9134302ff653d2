// Offline evaluation of a pair of online towers on labelled query-product records: the Table 3
// rows (EM and defect tasks) and the section 6.2 ranking simulation (EM@1, Defect@5), with the
// probabilities computed exactly as `csrm serve` computes them: σ(s·cos) of query and title towers.
import type { RelevanceRecord } from '../data/schema.ts';
import { rankingMetrics, table3Metrics, type BinaryMetrics, type RankedCandidate, type RankingMetrics } from './metrics.ts';
import { relevanceProb } from './rank.ts';
import type { OnlineModels, TowerModel } from './types.ts';

export interface OnlineEvaluation {
  pairs: number;
  table3: { defect: BinaryMetrics; exactMatch: BinaryMetrics };
  ranking: RankingMetrics;
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
  const em = await pairProbs(models.em, records);
  const defect = await pairProbs(models.defect, records);
  const groups = new Map<string, RankedCandidate[]>();
  records.forEach((r, i) => {
    const key = `${r.market}\u0000${r.query_id || `text:${r.query}`}`;
    const g = groups.get(key) ?? [];
    g.push({ product_id: r.product_id, label: r.label, em: em[i]!, defect: defect[i]! });
    groups.set(key, g);
  });
  return {
    pairs: records.length,
    table3: table3Metrics(records.map((r) => r.label), em, defect, threshold),
    ranking: rankingMetrics([...groups.values()], threshold),
  };
}
