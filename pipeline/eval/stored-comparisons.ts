// Paired comparisons read from the compact per-sample records that result files keep
// (sample-predictions.ts): Table 2's micro-F1 of two stages, the online towers' binary tasks
// (Table 3), and per-query outcomes (retrieval hits, EM@1, Defect@5), each query its own cluster.
// a[s] and b[s] are fine-tuning seed s's two models; `names` label them in errors.
import { accuracyScored, binaryF1Scored, microF1Scored, type Scored } from './count-metrics.ts';
import { comparePaired, type PairedComparison } from './paired-comparison.ts';
import type { BootstrapOpts } from './paired-bootstrap.ts';
import { checkSameSamples, fromDigits, readTestSamples, type SamplePredictions, type TestSamples } from './sample-predictions.ts';

export interface Names {
  a: string;
  b: string;
}

function checkSeeds(a: readonly unknown[], b: readonly unknown[], names: Names): void {
  if (a.length === 0 || a.length !== b.length) throw new Error(`compare ${names.a} with ${names.b}: ${a.length} vs ${b.length} seeds`);
}

/** Micro-F1 (eq. 5) of B − A from stored predictions on the same test samples. */
export function compareStoredPredictions(a: readonly SamplePredictions[], b: readonly SamplePredictions[], names: Names, opts: BootstrapOpts = {}): PairedComparison {
  checkSeeds(a, b, names);
  const ref = a[0]!;
  const { truth, clusters } = readTestSamples(ref, `${names.a} (seed 1)`);
  const scored = (p: SamplePredictions, where: string): Scored => {
    checkSameSamples(ref, p, `${names.a} (seed 1)`, where);
    return microF1Scored(truth, fromDigits(p.pred, p.n, `${where} predictions`));
  };
  const pairs = a.map((pa, s) => ({ a: scored(pa, `${names.a} (seed ${s + 1})`), b: scored(b[s]!, `${names.b} (seed ${s + 1})`) }));
  return comparePaired(clusters, pairs, opts);
}

/**
 * A binary task of B − A on one test set (per seed its own record of the samples, checked equal):
 * positive(label) is the task's positive class, a/b the stored 0/1 predictions; F1 of the positive
 * class or accuracy.
 */
export function compareStoredBinary(
  samples: readonly TestSamples[], positive: (label: number) => boolean, a: readonly string[], b: readonly string[], metric: 'f1' | 'accuracy', names: Names, opts: BootstrapOpts = {},
): PairedComparison {
  checkSeeds(a, b, names);
  if (samples.length !== a.length) throw new Error(`compare ${names.a} with ${names.b}: ${samples.length} test records for ${a.length} seeds`);
  const ref = samples[0]!;
  const { truth, clusters } = readTestSamples(ref, `${names.a} (seed 1)`);
  const t = truth.map(positive);
  const scored = (bits: string, where: string): Scored => {
    const p = fromDigits(bits, ref.n, `${where} predictions`);
    return metric === 'f1' ? binaryF1Scored(t, p) : accuracyScored(p.map((x, i) => (x === 1) === t[i]));
  };
  const pairs = a.map((pa, s) => {
    checkSameSamples(ref, samples[s]!, `${names.a} (seed 1)`, `${names.a} (seed ${s + 1})`);
    return { a: scored(pa, `${names.a} (seed ${s + 1})`), b: scored(b[s]!, `${names.b} (seed ${s + 1})`) };
  });
  return comparePaired(clusters, pairs, opts);
}

/** Per-unit outcomes (1 = right), each unit (a query) its own cluster: accuracy of B − A. */
export interface StoredOutcomes {
  n: number;
  /** Hash of the units' ids in order: the two sides pair only when it matches. */
  fingerprint: string;
  outcomes: string;
}

export function compareStoredOutcomes(a: readonly StoredOutcomes[], b: readonly StoredOutcomes[], names: Names, opts: BootstrapOpts = {}): PairedComparison {
  checkSeeds(a, b, names);
  const ref = a[0]!;
  const scored = (o: StoredOutcomes, where: string): Scored => {
    if (o.n !== ref.n || o.fingerprint !== ref.fingerprint) throw new Error(`${names.a} (seed 1) and ${where} are not scored on the same queries (${ref.n} vs ${o.n}, fingerprint ${ref.fingerprint} vs ${o.fingerprint})`);
    return accuracyScored(fromDigits(o.outcomes, o.n, `${where} outcomes`));
  };
  const clusters = Array.from({ length: ref.n }, (_, i) => String(i));
  const pairs = a.map((oa, s) => ({ a: scored(oa, `${names.a} (seed ${s + 1})`), b: scored(b[s]!, `${names.b} (seed ${s + 1})`) }));
  return comparePaired(clusters, pairs, opts);
}
