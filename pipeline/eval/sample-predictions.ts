// Per-sample predictions as a stage's result.json keeps them, so a report can pair two models on the
// same test samples from files alone. Compact: one digit per sample for the true label and for each
// prediction, the query of each sample as runs (a query's samples are mostly consecutive), and a
// fingerprint of the ordered sample keys; two files pair only when n, fingerprint, truth and
// queries agree.
import { createHash } from 'node:crypto';

/** Query ids of the samples in order, as runs: ids[i] repeated runs[i] times. */
export interface QueryRuns {
  ids: string[];
  runs: number[];
}

/** The test set as a result file records it. */
export interface TestSamples {
  n: number;
  /** sha256 (first 16 hex digits) of the ordered sample keys. */
  fingerprint: string;
  /** True label of each sample, one digit each. */
  truth: string;
  queries: QueryRuns;
}

/** A model's predictions on a test set: one digit per sample. */
export interface SamplePredictions extends TestSamples {
  pred: string;
}

export function fingerprint(keys: readonly string[]): string {
  return createHash('sha256').update(keys.join('\n')).digest('hex').slice(0, 16);
}

/** Labels 0..9 as a string of digits. */
export function toDigits(values: ArrayLike<number | boolean>, what: string): string {
  let s = '';
  for (let i = 0; i < values.length; i++) {
    const v = Number(values[i]);
    if (!(Number.isInteger(v) && v >= 0 && v <= 9)) throw new Error(`${what}: value ${String(values[i])} at sample ${i} is not a label 0..9`);
    s += String(v);
  }
  return s;
}

export function fromDigits(s: string, n: number, where: string): number[] {
  if (typeof s !== 'string' || s.length !== n) throw new Error(`${where}: expected ${n} digits, found ${typeof s === 'string' ? s.length : typeof s}`);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (!(c >= 0 && c <= 9)) throw new Error(`${where}: character ${JSON.stringify(s[i])} at sample ${i} is not a digit`);
    out[i] = c;
  }
  return out;
}

export function toQueryRuns(queryIds: readonly string[]): QueryRuns {
  const ids: string[] = [];
  const runs: number[] = [];
  for (const q of queryIds) {
    if (ids.length > 0 && ids[ids.length - 1] === q) runs[runs.length - 1]!++;
    else {
      ids.push(q);
      runs.push(1);
    }
  }
  return { ids, runs };
}

export function fromQueryRuns(q: QueryRuns, n: number, where: string): string[] {
  if (!q || !Array.isArray(q.ids) || !Array.isArray(q.runs) || q.ids.length !== q.runs.length) throw new Error(`${where}: queries must be { ids, runs } of equal length`);
  const out: string[] = [];
  q.ids.forEach((id, i) => {
    const k = q.runs[i]!;
    if (!(Number.isInteger(k) && k > 0)) throw new Error(`${where}: run ${i} of query ${id} has length ${k}`);
    for (let j = 0; j < k; j++) out.push(id);
  });
  if (out.length !== n) throw new Error(`${where}: query runs cover ${out.length} samples, expected ${n}`);
  return out;
}

export function testSamples(keys: readonly string[], truth: ArrayLike<number>, queryIds: readonly string[]): TestSamples {
  const n = keys.length;
  if (truth.length !== n || queryIds.length !== n) throw new Error(`testSamples: ${n} keys, ${truth.length} labels, ${queryIds.length} query ids`);
  return { n, fingerprint: fingerprint(keys), truth: toDigits(truth, 'truth'), queries: toQueryRuns(queryIds) };
}

export function samplePredictions(keys: readonly string[], truth: ArrayLike<number>, pred: ArrayLike<number>, queryIds: readonly string[]): SamplePredictions {
  if (pred.length !== keys.length) throw new Error(`samplePredictions: ${keys.length} samples, ${pred.length} predictions`);
  return { ...testSamples(keys, truth, queryIds), pred: toDigits(pred, 'predictions') };
}

/** The samples' labels and query clusters, checked. */
export function readTestSamples(t: TestSamples, where: string): { truth: number[]; clusters: string[] } {
  if (!t || !(Number.isInteger(t.n) && t.n > 0)) throw new Error(`${where}: no per-sample test results (rerun the stage to record them)`);
  return { truth: fromDigits(t.truth, t.n, `${where} truth`), clusters: fromQueryRuns(t.queries, t.n, `${where} queries`) };
}

/** Throws unless two records describe the same test samples in the same order. */
export function checkSameSamples(a: TestSamples, b: TestSamples, whereA: string, whereB: string): void {
  const why = a.n !== b.n ? `${a.n} vs ${b.n} samples`
    : a.fingerprint !== b.fingerprint ? `sample keys differ (fingerprint ${a.fingerprint} vs ${b.fingerprint})`
    : a.truth !== b.truth ? 'true labels differ'
    : JSON.stringify(a.queries) !== JSON.stringify(b.queries) ? 'query ids differ'
    : null;
  if (why) throw new Error(`${whereA} and ${whereB} are not scored on the same test samples: ${why}`);
}
