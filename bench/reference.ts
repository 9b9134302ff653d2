// Float64 references every system's output is compared with (‖out − ref‖/‖ref‖). Families whose
// engine reference lives in engine/reference/ use it; the others (softmax, RMSNorm, attention,
// AdamW, three-token CE) are written here until their engine references land, from the same
// equations. Large outputs are checked on a fixed sample of rows so a 2048³ reference stays cheap.
import { matmulRef } from '../engine/reference/matmul.ts';
import { ADAMW, RMS_EPS, type AttnShape, type Ce3Shape, type MatmulShape } from './shapes.ts';

/** Rows checked for an output with `rows` rows: all if few, else an evenly spaced sample incl. the last. */
export function sampleRows(rows: number, max = 64): number[] {
  if (rows <= max) return Array.from({ length: rows }, (_, i) => i);
  const out = Array.from({ length: max - 1 }, (_, i) => Math.floor((i * rows) / (max - 1)));
  out.push(rows - 1);
  return out;
}

/** Gathers the sampled rows of a row-major [rows, cols] array. */
export function pickRows(x: ArrayLike<number>, rowsIdx: number[], cols: number): Float64Array {
  const out = new Float64Array(rowsIdx.length * cols);
  rowsIdx.forEach((r, i) => {
    for (let c = 0; c < cols; c++) out[i * cols + c] = x[r * cols + c]!;
  });
  return out;
}

/** C[rows,:] = A[rows,:]·B in float64 (rows = sampleRows(M)). */
export function matmulRows(A: Float32Array, B: Float32Array, s: MatmulShape, rows: number[]): Float64Array {
  const a = pickRows(A, rows, s.K);
  return matmulRef(a, B, 1, rows.length, s.N, s.K, false, false, 0, 0);
}

/** y = softmax(x) along the last axis, for the given rows. */
export function softmaxRows(x: Float32Array, cols: number, rows: number[]): Float64Array {
  const y = new Float64Array(rows.length * cols);
  rows.forEach((r, i) => {
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[r * cols + c]!);
    let s = 0;
    for (let c = 0; c < cols; c++) s += (y[i * cols + c] = Math.exp(x[r * cols + c]! - m));
    for (let c = 0; c < cols; c++) y[i * cols + c]! /= s;
  });
  return y;
}

/** y = x / sqrt(mean(x²) + eps) · w along the last axis, for the given rows. */
export function rmsnormRows(x: Float32Array, w: Float32Array, cols: number, rows: number[]): Float64Array {
  const y = new Float64Array(rows.length * cols);
  rows.forEach((r, i) => {
    let ss = 0;
    for (let c = 0; c < cols; c++) ss += x[r * cols + c]! ** 2;
    const inv = 1 / Math.sqrt(ss / cols + RMS_EPS);
    for (let c = 0; c < cols; c++) y[i * cols + c] = x[r * cols + c]! * inv * w[c]!;
  });
  return y;
}

/** Causal attention out[b,h,t,:] = softmax_s≤t(q·kᵀ/√D)·v for sampled (b·H + h, t) rows of [B,H,T,D]. */
export function attentionRows(q: Float32Array, k: Float32Array, v: Float32Array, s: AttnShape, rows: number[]): Float64Array {
  const { T, D } = s;
  const out = new Float64Array(rows.length * D);
  const scale = 1 / Math.sqrt(D);
  const w = new Float64Array(T);
  rows.forEach((row, i) => {
    const bh = Math.floor(row / T);
    const t = row % T;
    const base = bh * T * D;
    let m = -Infinity;
    for (let j = 0; j <= t; j++) {
      let d = 0;
      for (let c = 0; c < D; c++) d += q[base + t * D + c]! * k[base + j * D + c]!;
      w[j] = d * scale;
      m = Math.max(m, w[j]!);
    }
    let z = 0;
    for (let j = 0; j <= t; j++) z += (w[j] = Math.exp(w[j]! - m));
    for (let j = 0; j <= t; j++) for (let c = 0; c < D; c++) out[i * D + c]! += (w[j]! / z) * v[base + j * D + c]!;
  });
  return out;
}

/** One AdamW step (decoupled weight decay), returning the new parameters:
 *  m' = β1m + (1−β1)g, v' = β2v + (1−β2)g², p' = p − lr(m̂/(√v̂ + eps) + wd·p), m̂ = m'/(1−β1ᵗ), v̂ = v'/(1−β2ᵗ). */
export function adamwRef(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array): Float64Array {
  const { lr, b1, b2, eps, wd, t } = ADAMW;
  const out = new Float64Array(p.length);
  const c1 = 1 - b1 ** t;
  const c2 = 1 - b2 ** t;
  for (let i = 0; i < p.length; i++) {
    const mi = b1 * m[i]! + (1 - b1) * g[i]!;
    const vi = b2 * v[i]! + (1 - b2) * g[i]! ** 2;
    out[i] = p[i]! - lr * (mi / c1 / (Math.sqrt(vi / c2) + eps) + wd * p[i]!);
  }
  return out;
}

/** Mean three-token CE: logits z_j = h_b·W[tok_j] (j = 0..2), loss = mean_b (logsumexp(z) − z[label_b]). */
export function ce3Ref(h: Float32Array, W: Float32Array, s: Ce3Shape, tokens: readonly number[], labels: Int32Array): number {
  let loss = 0;
  for (let b = 0; b < s.B; b++) {
    const z = tokens.map((tok) => {
      let d = 0;
      for (let c = 0; c < s.D; c++) d += h[b * s.D + c]! * W[tok * s.D + c]!;
      return d;
    });
    const m = Math.max(...z);
    const lse = m + Math.log(z.reduce((a, x) => a + Math.exp(x - m), 0));
    loss += lse - z[labels[b]!]!;
  }
  return loss / s.B;
}
