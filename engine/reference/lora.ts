// Float64 LoRA linear (Hu et al. 2021, as Hugging Face PEFT computes it), forward and backward:
//   t  = s · (keep ⊙ x)·Aᵀ            [M, R]   s = (alpha/r)/(1 − p) in training, alpha/r otherwise
//   y  = x·Wᵀ + t·Bᵀ                  [M, N]
//   u  = g·B                          [M, R]
//   dx = g·W + s · keep ⊙ (u·A)       [M, K]
//   dA = s · uᵀ·(keep ⊙ x)            [R, K]
//   dB = gᵀ·t                         [N, R]
// keep(m·K + k) is the dropout mask of engine/reference/dropout.ts (all ones when thr = 0).
import { dropKeep } from './dropout.ts';

export interface LoraDims {
  M: number;
  N: number;
  K: number;
  R: number;
  s: number; // scale including 1/(1 − p)
  thr: number; // dropout threshold (0: no dropout)
  seed: number;
}

function mask(d: LoraDims): (e: number) => number {
  return d.thr === 0 ? () => 1 : (e) => dropKeep(d.seed, e, d.thr);
}

export function loraFwdRef(x: ArrayLike<number>, w: ArrayLike<number>, a: ArrayLike<number>, b: ArrayLike<number>, d: LoraDims): { y: Float64Array; t: Float64Array } {
  const { M, N, K, R, s } = d;
  const keep = mask(d);
  const t = new Float64Array(M * R);
  for (let m = 0; m < M; m++)
    for (let j = 0; j < R; j++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += keep(m * K + k) * x[m * K + k]! * a[j * K + k]!;
      t[m * R + j] = s * acc;
    }
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += x[m * K + k]! * w[n * K + k]!;
      for (let j = 0; j < R; j++) acc += t[m * R + j]! * b[n * R + j]!;
      y[m * N + n] = acc;
    }
  return { y, t };
}

export function loraBwdRef(
  g: ArrayLike<number>,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  t: ArrayLike<number>,
  d: LoraDims,
): { dx: Float64Array; da: Float64Array; db: Float64Array } {
  const { M, N, K, R, s } = d;
  const keep = mask(d);
  const u = new Float64Array(M * R);
  for (let m = 0; m < M; m++)
    for (let j = 0; j < R; j++) {
      let acc = 0;
      for (let n = 0; n < N; n++) acc += g[m * N + n]! * b[n * R + j]!;
      u[m * R + j] = acc;
    }
  const dx = new Float64Array(M * K);
  for (let m = 0; m < M; m++)
    for (let k = 0; k < K; k++) {
      let base = 0;
      for (let n = 0; n < N; n++) base += g[m * N + n]! * w[n * K + k]!;
      let lo = 0;
      for (let j = 0; j < R; j++) lo += u[m * R + j]! * a[j * K + k]!;
      dx[m * K + k] = base + s * keep(m * K + k) * lo;
    }
  const da = new Float64Array(R * K);
  for (let j = 0; j < R; j++)
    for (let k = 0; k < K; k++) {
      let acc = 0;
      for (let m = 0; m < M; m++) acc += u[m * R + j]! * keep(m * K + k) * x[m * K + k]!;
      da[j * K + k] = s * acc;
    }
  const db = new Float64Array(N * R);
  for (let n = 0; n < N; n++)
    for (let j = 0; j < R; j++) {
      let acc = 0;
      for (let m = 0; m < M; m++) acc += g[m * N + n]! * t[m * R + j]!;
      db[n * R + j] = acc;
    }
  return { dx, da, db };
}

/** W + s·B·A (float64), the merge/unmerge reference. */
export function loraMergeRef(w: ArrayLike<number>, a: ArrayLike<number>, b: ArrayLike<number>, N: number, K: number, R: number, s: number): Float64Array {
  const out = new Float64Array(N * K);
  for (let n = 0; n < N; n++)
    for (let k = 0; k < K; k++) {
      let acc = 0;
      for (let j = 0; j < R; j++) acc += b[n * R + j]! * a[j * K + k]!;
      out[n * K + k] = w[n * K + k]! + s * acc;
    }
  return out;
}
