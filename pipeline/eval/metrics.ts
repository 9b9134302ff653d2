// Evaluation metrics of the paper: micro-F1 over the three relevance classes (eq. 5), per-class
// precision/recall/F1, the confusion matrix, and the cross-lingual transfer gap (eq. 6).
export const CLASS_NAMES = ['irrelevant', 'substitute', 'exact'] as const;

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface Evaluation {
  n: number;
  microF1: number; // eq. 5
  accuracy: number;
  confusion: number[][]; // confusion[true][pred]
  perClass: ClassScores[];
  majorityRate: number; // share of the most frequent true class: the trivial baseline
}

/** Confusion matrix, confusion[t][p] = #samples with true label t predicted as p. */
export function confusionMatrix(truth: ArrayLike<number>, pred: ArrayLike<number>, k = 3): number[][] {
  if (truth.length !== pred.length) throw new Error(`confusionMatrix: ${truth.length} labels vs ${pred.length} predictions`);
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i]!;
    const p = pred[i]!;
    if (!(t >= 0 && t < k && p >= 0 && p < k)) throw new Error(`confusionMatrix: label out of range at ${i} (true ${t}, pred ${p})`);
    m[t]![p]!++;
  }
  return m;
}

/**
 * Eq. 5: F1 = ΣTP_i / (ΣTP_i + ½(ΣFP_i + ΣFN_i)), i ∈ {0,1,2}.
 * (With every sample predicted as exactly one class, ΣFP = ΣFN, so this equals accuracy.)
 */
export function microF1(confusion: number[][]): number {
  const k = confusion.length;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let c = 0; c < k; c++) {
    for (let o = 0; o < k; o++) {
      if (o === c) tp += confusion[c]![c]!;
      else {
        fn += confusion[c]![o]!; // true c predicted o
        fp += confusion[o]![c]!; // true o predicted c
      }
    }
  }
  const den = tp + 0.5 * (fp + fn);
  return den === 0 ? 0 : tp / den;
}

/** Scores of a non-empty set: F1 over no samples would read as a (terrible) result. */
export function evaluate(truth: ArrayLike<number>, pred: ArrayLike<number>): Evaluation {
  if (truth.length === 0) throw new Error('evaluate: no samples (an empty split has no F1)');
  const confusion = confusionMatrix(truth, pred);
  const k = confusion.length;
  const perClass: ClassScores[] = [];
  let correct = 0;
  for (let c = 0; c < k; c++) {
    const tp = confusion[c]![c]!;
    correct += tp;
    const predC = confusion.reduce((s, row) => s + row[c]!, 0);
    const support = confusion[c]!.reduce((s, v) => s + v, 0);
    const precision = predC === 0 ? 0 : tp / predC;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    perClass.push({ precision, recall, f1, support });
  }
  const n = truth.length;
  const majority = Math.max(...perClass.map((c) => c.support));
  return {
    n,
    microF1: microF1(confusion),
    accuracy: n === 0 ? 0 : correct / n,
    confusion,
    perClass,
    majorityRate: n === 0 ? 0 : majority / n,
  };
}

/**
 * Eq. 6, the cross-lingual transfer gap: (1/m) Σ_i ‖e_i⁽²⁾ − e_i⁽¹⁾‖ / ‖e_i⁽²⁾ − ē‖, where e⁽¹⁾ is the
 * source-language (KR) representation of pair i, e⁽²⁾ its target-language (TC) twin, and ē the mean
 * TC representation. Lower is better (representations of a pair in both languages are closer).
 */
export function transferGap(source: Float32Array[] | Float64Array[], target: Float32Array[] | Float64Array[]): number {
  const m = source.length;
  if (m === 0 || target.length !== m) throw new Error(`transferGap: need paired representations (got ${m} and ${target.length})`);
  const d = target[0]!.length;
  const mean = new Float64Array(d);
  for (const e of target) for (let j = 0; j < d; j++) mean[j]! += e[j]! / m;
  let total = 0;
  for (let i = 0; i < m; i++) {
    let num = 0;
    let den = 0;
    const s = source[i]!;
    const t = target[i]!;
    if (s.length !== d || t.length !== d) throw new Error(`transferGap: pair ${i} has dimensions ${s.length}/${t.length}, expected ${d}`);
    for (let j = 0; j < d; j++) {
      num += (t[j]! - s[j]!) ** 2;
      den += (t[j]! - mean[j]!) ** 2;
    }
    total += den === 0 ? 0 : Math.sqrt(num) / Math.sqrt(den);
  }
  return total / m;
}
