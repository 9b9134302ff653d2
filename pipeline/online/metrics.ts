// Offline metrics of the online model. Table 3: accuracy and binary F1 of the EM task (positive =
// label exact) and the defect task (positive = label irrelevant). Section 6.2: EM@1 and Defect@5 of
// the ranking the two models produce together.
import type { Label } from '../data/schema.ts';
import { rankCandidates } from './rank.ts';

export interface BinaryMetrics {
  n: number;
  accuracy: number;
  /** TP / (TP + FP); 0 when nothing is predicted positive. */
  precision: number;
  /** TP / (TP + FN); 0 when there is no positive sample. */
  recall: number;
  /** 2PR / (P + R); 0 when P + R = 0. */
  f1: number;
}

/** `truth[i]` is the positive class; sample i is predicted positive when prob[i] ≥ threshold. */
export function binaryMetrics(truth: readonly boolean[], prob: readonly number[], threshold = 0.5): BinaryMetrics {
  if (truth.length !== prob.length) throw new Error(`binaryMetrics: ${truth.length} labels vs ${prob.length} probabilities`);
  if (truth.length === 0) throw new Error('binaryMetrics: no samples');
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < truth.length; i++) {
    const p = prob[i]!;
    if (!(p >= 0 && p <= 1)) throw new Error(`binaryMetrics: probability ${p} at ${i} is not in [0, 1]`);
    const pred = p >= threshold;
    if (pred && truth[i]) tp++;
    else if (pred) fp++;
    else if (truth[i]) fn++;
    else tn++;
  }
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { n: truth.length, accuracy: (tp + tn) / truth.length, precision, recall, f1 };
}

/** The positive class of the EM model: the label is exact (2). */
export const isExact = (l: Label) => l === 2;
/** The positive class of the defect model: the label is irrelevant (0). */
export const isDefect = (l: Label) => l === 0;

/** Table 3 rows for one model pair: the defect task and the exact-match task. */
export function table3Metrics(
  labels: readonly Label[], em: readonly number[], defect: readonly number[], threshold = 0.5,
): { defect: BinaryMetrics; exactMatch: BinaryMetrics } {
  return {
    defect: binaryMetrics(labels.map(isDefect), defect, threshold),
    exactMatch: binaryMetrics(labels.map(isExact), em, threshold),
  };
}

export interface RankedCandidate {
  product_id: string;
  /** Human (or teacher) label of the pair, used only to judge the page. */
  label: Label;
  /** EM model probability. */
  em: number;
  /** Defect model probability. */
  defect: number;
}

export interface RankingMetrics {
  queries: number;
  /**
   * EM@1: share of queries whose top shown item is an exact match. A query with nothing shown
   * (no candidates, or every candidate filtered) has no exact item on top and counts as a miss.
   */
  em1: number;
  /**
   * Defect@5 as the brief defines it from section 6.2: share of queries with NO irrelevant item
   * among the first min(5, shown) items; higher is better. A query with nothing shown shows no
   * defect and counts as defect-free — which is why `empty` is reported beside it.
   */
  defect5: number;
  /** 1 − defect5: share of queries with at least one irrelevant item in the top 5 (the rate that the paper's "45.8% reduction" reduces). */
  defectRate5: number;
  /** Share of queries with nothing shown, so filtering everything cannot pass for a good Defect@5. */
  empty: number;
}

/** Per query, in order: is the top shown item exact (EM@1), is the first page free of defects, is nothing shown. */
export function rankingOutcomes(queries: readonly (readonly RankedCandidate[])[], threshold = 0.5): { em1: boolean[]; clean5: boolean[]; empty: boolean[] } {
  const em1: boolean[] = [];
  const clean5: boolean[] = [];
  const empty: boolean[] = [];
  for (const cands of queries) {
    const { ranked } = rankCandidates(cands, threshold);
    empty.push(ranked.length === 0);
    em1.push(ranked.length > 0 && isExact(ranked[0]!.label));
    clean5.push(!ranked.slice(0, 5).some((c) => isDefect(c.label)));
  }
  return { em1, clean5, empty };
}

/**
 * The ranking simulation: for each held-out query, drop candidates with defect ≥ threshold, order
 * the rest by EM (ties in input order; `rank.ts`), and judge the page with the labels.
 */
export function rankingMetrics(queries: readonly (readonly RankedCandidate[])[], threshold = 0.5): RankingMetrics {
  if (queries.length === 0) throw new Error('rankingMetrics: no queries');
  const o = rankingOutcomes(queries, threshold);
  const q = queries.length;
  const count = (xs: boolean[]) => xs.filter(Boolean).length;
  const clean = count(o.clean5);
  return { queries: q, em1: count(o.em1) / q, defect5: clean / q, defectRate5: (q - clean) / q, empty: count(o.empty) / q };
}
