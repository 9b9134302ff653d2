// The shapes every system is measured at: ours suites and peers read them from here so that rows
// line up (same kernel name, same shape string, same host inputs from bench/inputs.ts).
// Layout contracts for the shared host arrays are written beside each family.
import type { BenchOpts } from './types.ts';

export interface MatmulShape {
  M: number;
  N: number;
  K: number;
}
/** 'MxNxK' — C[M,N] = A[M,K]·B[K,N], both row-major. */
export const mmKey = (s: MatmulShape) => `${s.M}x${s.N}x${s.K}`;

export function matmulShapes(o: BenchOpts): MatmulShape[] {
  const all = o.smoke
    ? [{ M: 33, N: 17, K: 9 }] // not multiples of any tile
    : [256, 512, 1024, 2048, ...(o.size === 4096 ? [4096] : [])].map((n) => ({ M: n, N: n, K: n })).concat([{ M: 2048, N: 256, K: 768 }]);
  return o.size ? all.filter((s) => s.M === o.size) : all;
}

/** softmax over the last axis of a row-major [rows, cols] array. */
export function softmaxShapes(o: BenchOpts): { rows: number; cols: number }[] {
  const all = o.smoke ? [{ rows: 7, cols: 33 }] : [{ rows: 4096, cols: 1024 }];
  return o.size ? all.filter((s) => s.rows === o.size || s.cols === o.size) : all;
}

/** RMSNorm over the last axis: x [rows, cols], weight [cols]; y = x / sqrt(mean(x²) + eps) · w. */
export const RMS_EPS = 1e-6;
export function rmsnormShapes(o: BenchOpts): { rows: number; cols: number }[] {
  const all = o.smoke ? [{ rows: 5, cols: 37 }] : [{ rows: 4096, cols: 768 }];
  return o.size ? all.filter((s) => s.rows === o.size || s.cols === o.size) : all;
}

/** Causal attention forward; q, k, v, out are row-major [B, H, T, D]; scale 1/√D. */
export interface AttnShape {
  B: number;
  H: number;
  T: number;
  D: number;
}
export const attnKey = (s: AttnShape) => `${s.B}x${s.H}x${s.T}x${s.D}`;
export function attentionShapes(o: BenchOpts): AttnShape[] {
  const all = o.smoke ? [{ B: 1, H: 2, T: 9, D: 8 }] : [{ B: 1, H: 12, T: 512, D: 64 }];
  return o.size ? all.filter((s) => s.T === o.size) : all;
}

/** One AdamW step over n parameters (p, g, m, v; lr, β1, β2, eps, weight decay, step t). */
export const ADAMW = { lr: 1e-3, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.01, t: 3 };
export function adamwSizes(o: BenchOpts): number[] {
  const all = o.smoke ? [1001] : [1 << 22];
  return o.size ? all.filter((n) => n === o.size) : all;
}

/**
 * Three-token cross-entropy (CSRM §4: only the three label tokens' probabilities are normalised):
 * h [B, D] hidden states, W [V, D] LM head, tokens = 3 vocabulary ids, labels [B] in {0,1,2};
 * loss = mean_b −log softmax(h_b·W[tokens]ᵀ)[label_b]. The "full-softmax path" computes all V
 * logits and a softmax over V, then gathers the three tokens and renormalises.
 */
export interface Ce3Shape {
  B: number;
  D: number;
  V: number;
}
export const ce3Key = (s: Ce3Shape) => `${s.B}x${s.D}x${s.V}`;
export function ce3Shapes(o: BenchOpts): Ce3Shape[] {
  const all = o.smoke ? [{ B: 3, D: 9, V: 50 }] : [{ B: 64, D: 768, V: 32768 }];
  return o.size ? all.filter((s) => s.V === o.size || s.B === o.size) : all;
}
export const ce3Tokens = (V: number): [number, number, number] => [Math.floor(V / 7), Math.floor(V / 3), V - 2];

/** Elementwise ops over n elements. */
export function elementwiseSizes(o: BenchOpts): number[] {
  const all = o.smoke ? [1037] : [1 << 24];
  return o.size ? all.filter((n) => n === o.size) : all;
}
