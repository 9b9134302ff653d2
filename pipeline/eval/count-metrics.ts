// Metrics written as a function of summed per-sample counts, so that a resampled test set (a
// multiset of queries, paired-bootstrap.ts) is scored by adding the counts of the samples it holds.
// Each sample contributes a count vector of `width` numbers; the metric reads their sum.

export interface CountMetric {
  name: string;
  /** Numbers each sample contributes. */
  width: number;
  /** The metric from the summed counts s[0..width). */
  value(s: ArrayLike<number>): number;
}

/** Per-sample count vectors (n × width, row-major) and per-sample correctness, for McNemar. */
export interface Scored {
  metric: CountMetric;
  counts: Float64Array;
  correct: Uint8Array;
}

/**
 * Eq. 5 from counts [ΣTP, ΣFP, ΣFN]: F1 = ΣTP / (ΣTP + ½(ΣFP + ΣFN)). A single-label sample is a TP
 * when right; when wrong it is one FP (of the predicted class) and one FN (of the true class).
 */
export const MICRO_F1: CountMetric = {
  name: 'micro-F1',
  width: 3,
  value: (s) => {
    const den = s[0]! + 0.5 * (s[1]! + s[2]!);
    return den === 0 ? 0 : s[0]! / den;
  },
};

/** Accuracy from counts [correct, samples]. */
export const ACCURACY: CountMetric = {
  name: 'accuracy',
  width: 2,
  value: (s) => (s[1]! === 0 ? 0 : s[0]! / s[1]!),
};

/** Binary F1 from counts [TP, FP, FN]: 2TP / (2TP + FP + FN) = 2PR / (P + R); 0 when TP = 0. */
export const BINARY_F1: CountMetric = {
  name: 'F1',
  width: 3,
  value: (s) => (s[0]! === 0 ? 0 : (2 * s[0]!) / (2 * s[0]! + s[1]! + s[2]!)),
};

function checkLengths(what: string, a: ArrayLike<unknown>, b: ArrayLike<unknown>): void {
  if (a.length !== b.length) throw new Error(`${what}: ${a.length} labels vs ${b.length} predictions`);
}

/** Single-label classification (labels 0..k−1) scored for eq. 5 micro-F1. */
export function microF1Scored(truth: ArrayLike<number>, pred: ArrayLike<number>): Scored {
  checkLengths('microF1Scored', truth, pred);
  const n = truth.length;
  const counts = new Float64Array(3 * n);
  const correct = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const ok = truth[i] === pred[i];
    correct[i] = ok ? 1 : 0;
    if (ok) counts[3 * i] = 1;
    else counts[3 * i + 1] = counts[3 * i + 2] = 1;
  }
  return { metric: MICRO_F1, counts, correct };
}

/** Per-sample (or per-query) right/wrong scored as accuracy. */
export function accuracyScored(correct: ArrayLike<boolean | number>): Scored {
  const n = correct.length;
  const counts = new Float64Array(2 * n);
  const c = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    c[i] = correct[i] ? 1 : 0;
    counts[2 * i] = c[i]!;
    counts[2 * i + 1] = 1;
  }
  return { metric: ACCURACY, counts, correct: c };
}

/** A binary task (positive = true) scored for F1 of the positive class. */
export function binaryF1Scored(truth: ArrayLike<boolean | number>, pred: ArrayLike<boolean | number>): Scored {
  checkLengths('binaryF1Scored', truth, pred);
  const n = truth.length;
  const counts = new Float64Array(3 * n);
  const correct = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const t = !!truth[i];
    const p = !!pred[i];
    correct[i] = t === p ? 1 : 0;
    if (t && p) counts[3 * i] = 1;
    else if (p) counts[3 * i + 1] = 1;
    else if (t) counts[3 * i + 2] = 1;
  }
  return { metric: BINARY_F1, counts, correct };
}

/** The metric on all samples: the value of the summed counts. */
export function metricValue(s: Scored): number {
  const w = s.metric.width;
  const sum = new Float64Array(w);
  for (let i = 0; i < s.counts.length; i++) sum[i % w]! += s.counts[i]!;
  return s.metric.value(sum);
}
