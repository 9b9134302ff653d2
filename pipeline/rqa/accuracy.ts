// Retrieval accuracy as in section 5.2: the share of queries whose retrieved titles carry the
// query's true intent. The paper's raters judged each retrieved text; in the synthetic market the
// generator's ground truth judges instead, through `truth(queryId, productId) → 0|1|2` (irrelevant,
// substitute, exact), so this file knows nothing of the generator.
import type { Label } from '../data/schema.ts';

export type Truth = (queryId: string, productId: string) => Label;

export interface Retrieved {
  query_id: string;
  /** Retrieved product ids, best first. */
  product_ids: readonly string[];
}

export interface AccuracyOpts {
  k: number;
  /** Lowest label that carries the intent: 2 = exact only (default), 1 = exact or substitute. */
  minLabel?: 1 | 2;
}

export interface RetrievalAccuracy {
  queries: number;
  k: number;
  minLabel: 1 | 2;
  /** Share of queries whose top-1 retrieved product is correct. */
  top1: number;
  /** Share of queries with at least one correct product in the top k. */
  anyOfK: number;
  /** Share of queries where more than half of the top k are correct. */
  majorityOfK: number;
  /** Share of all retrieved texts (top k of every query) that are correct: the raters' per-text view. */
  perText: number;
}

/** Per query, in order: is the top-1 product correct, and is any of the top k (the units paired comparisons resample). */
export function queryHits(retrieved: readonly Retrieved[], truth: Truth, opts: AccuracyOpts): { top1: boolean[]; anyOfK: boolean[]; correctOfK: number[] } {
  const minLabel = opts.minLabel ?? 2;
  const k = opts.k;
  if (!Number.isInteger(k) || k < 1) throw new Error(`retrievalAccuracy: k must be ≥ 1, got ${k}`);
  const top1: boolean[] = [];
  const anyOfK: boolean[] = [];
  const correctOfK: number[] = [];
  for (const r of retrieved) {
    const ok = r.product_ids.slice(0, k).map((p) => truth(r.query_id, p) >= minLabel);
    const n = ok.filter(Boolean).length;
    top1.push(!!ok[0]);
    anyOfK.push(n > 0);
    correctOfK.push(n);
  }
  return { top1, anyOfK, correctOfK };
}

/** Accuracy over queries; a query with fewer than k results counts its missing slots as wrong. */
export function retrievalAccuracy(retrieved: readonly Retrieved[], truth: Truth, opts: AccuracyOpts): RetrievalAccuracy {
  const k = opts.k;
  const h = queryHits(retrieved, truth, opts);
  const Q = retrieved.length;
  const share = (x: number, of: number) => (of === 0 ? 0 : x / of);
  const count = (xs: boolean[]) => xs.filter(Boolean).length;
  return {
    queries: Q, k, minLabel: opts.minLabel ?? 2,
    top1: share(count(h.top1), Q), anyOfK: share(count(h.anyOfK), Q),
    majorityOfK: share(count(h.correctOfK.map((n) => 2 * n > k)), Q), perText: share(h.correctOfK.reduce((s, n) => s + n, 0), Q * k),
  };
}

/** A section-5.2-style table: one line per retriever (BM25, EBR, EBR*). */
export function formatAccuracy(rows: readonly { name: string; acc: RetrievalAccuracy }[]): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`.padStart(7);
  const head = `${'retriever'.padEnd(12)} ${'top-1'.padStart(7)} ${'any@k'.padStart(7)} ${'maj@k'.padStart(7)} ${'per-text'.padStart(8)}  queries  k  counts`;
  const lines = rows.map(({ name, acc: a }) =>
    `${name.padEnd(12)} ${pct(a.top1)} ${pct(a.anyOfK)} ${pct(a.majorityOfK)} ${pct(a.perText).padStart(8)}  ${String(a.queries).padStart(7)} ${String(a.k).padStart(2)}  ${a.minLabel === 2 ? 'exact' : 'exact+substitute'}`);
  return [head, ...lines].join('\n');
}
