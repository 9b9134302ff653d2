// Sampled rows of the engine's float64 references (engine/reference/), the ground truth every
// system's output is compared with (‖out − ref‖/‖ref‖). Large outputs are checked on a fixed
// sample of rows so a 2048³ reference stays cheap; the math is the engine's, not repeated here.
import { adamwRef as engineAdamw } from '../engine/reference/adamw.ts';
import { attentionRef } from '../engine/reference/attention.ts';
import { ce3ForwardRef } from '../engine/reference/losses/ce3.ts';
import { matmulRef } from '../engine/reference/matmul.ts';
import { normForwardRef } from '../engine/reference/norm.ts';
import { softmaxRef } from '../engine/reference/softmax.ts';
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
  return matmulRef(pickRows(A, rows, s.K), B, 1, rows.length, s.N, s.K, false, false, 0, 0);
}

/** y = softmax(x) along the last axis, for the given rows. */
export function softmaxRows(x: Float32Array, cols: number, rows: number[]): Float64Array {
  const y = new Float64Array(rows.length * cols);
  softmaxRef('softmax', pickRows(x, rows, cols), cols, y);
  return y;
}

/** RMSNorm y = x / sqrt(mean(x²) + eps) · w along the last axis, for the given rows. */
export function rmsnormRows(x: Float32Array, w: Float32Array, cols: number, rows: number[]): Float64Array {
  return normForwardRef('rms', pickRows(x, rows, cols), w, null, rows.length, cols, RMS_EPS).y;
}

/** Causal attention (scale 1/√D) for sampled (b·H + h, t) rows of row-major [B, H, T, D]: each row is one query against its head's keys 0..t. */
export function attentionRows(q: Float32Array, k: Float32Array, v: Float32Array, s: AttnShape, rows: number[]): Float64Array {
  const { T, D } = s;
  const out = new Float64Array(rows.length * D);
  rows.forEach((row, i) => {
    const head = Math.floor(row / T) * T * D;
    const t = row % T;
    const keys = [head, head + (t + 1) * D] as const;
    const d = { B: 1, T: 1, S: t + 1, H: 1, Hkv: 1, Dh: D, causal: false, scale: 1 / Math.sqrt(D), offset: 0 };
    out.set(attentionRef(q.subarray(head + t * D, head + (t + 1) * D), k.subarray(...keys), v.subarray(...keys), null, d).o, i * D);
  });
  return out;
}

/** The parameters after one AdamW step (ADAMW's hyper-parameters and step count). */
export function adamwRef(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array): Float64Array {
  const out = Float64Array.from(p);
  const { lr, b1, b2, eps, wd, t } = ADAMW;
  engineAdamw(out, g, Float64Array.from(m), Float64Array.from(v), t, { lr, beta1: b1, beta2: b2, eps, weightDecay: wd });
  return out;
}

/** Mean three-token CE over logits z_j = h_b·W[tok_j] (eq. 2 with hard labels). */
export function ce3Ref(h: Float32Array, W: Float32Array, s: Ce3Shape, tokens: readonly number[], labels: Int32Array): number {
  const logits = new Float64Array(s.B * 3);
  for (let b = 0; b < s.B; b++)
    tokens.forEach((tok, j) => {
      for (let c = 0; c < s.D; c++) logits[b * 3 + j]! += h[b * s.D + c]! * W[tok * s.D + c]!;
    });
  const per = ce3ForwardRef({ logits, B: s.B, V: 3, ids: [0, 1, 2], hard: labels, soft: null, alpha: 1, weights: null });
  return per.reduce((a, x) => a + x, 0) / s.B;
}
