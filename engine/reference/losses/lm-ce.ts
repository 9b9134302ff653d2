// Float64 reference of the token-level LM cross-entropy; math in engine/losses/lm-ce.ts.
export interface LmCeArgs {
  logits: ArrayLike<number>; // [N, V]
  N: number;
  V: number;
  targets: ArrayLike<number>; // [N]
  ignoreIndex: number;
  weights: ArrayLike<number> | null; // [N]
  mean: boolean;
}

export function lmCeLse(a: LmCeArgs, r: number): number {
  let m = -Infinity;
  for (let c = 0; c < a.V; c++) m = Math.max(m, a.logits[r * a.V + c]!);
  let s = 0;
  for (let c = 0; c < a.V; c++) s += Math.exp(a.logits[r * a.V + c]! - m);
  return m + Math.log(s);
}

function checkTarget(a: LmCeArgs, r: number): boolean {
  const t = a.targets[r]!;
  if (t === a.ignoreIndex) return false;
  if (!(Number.isInteger(t) && t >= 0 && t < a.V)) throw new Error(`lmCrossEntropy: target ${t} at row ${r} is outside [0, ${a.V}) and is not the ignore index ${a.ignoreIndex}`);
  return true;
}

/** Per-token losses w_r·(lse_r − z_r,t) (0 for ignored tokens) and the divisor norm. */
export function lmCeForwardRef(a: LmCeArgs): { perToken: Float64Array; total: number; norm: number } {
  const perToken = new Float64Array(a.N);
  let count = 0;
  let sum = 0;
  for (let r = 0; r < a.N; r++) {
    if (!checkTarget(a, r)) continue;
    count++;
    perToken[r] = (a.weights ? a.weights[r]! : 1) * (lmCeLse(a, r) - a.logits[r * a.V + a.targets[r]!]!);
    sum += perToken[r]!;
  }
  const norm = a.mean ? Math.max(count, 1) : 1;
  return { perToken, total: sum / norm, norm };
}

/** dlogits [N, V] = g·w_r·(softmax(z_r) − onehot(t_r)) / norm; 0 rows for ignored tokens. */
export function lmCeBackwardRef(a: LmCeArgs, g: number, norm: number): Float64Array {
  const dx = new Float64Array(a.N * a.V);
  for (let r = 0; r < a.N; r++) {
    if (!checkTarget(a, r)) continue;
    const lse = lmCeLse(a, r);
    const coef = (g * (a.weights ? a.weights[r]! : 1)) / norm;
    for (let c = 0; c < a.V; c++) dx[r * a.V + c] = coef * (Math.exp(a.logits[r * a.V + c]! - lse) - (c === a.targets[r] ? 1 : 0));
  }
  return dx;
}
