// LoRA linear forward + backward (dx, dA, dB; W frozen) at transformer sizes: tokens × 768 → 768
// with r = 8 and 16, dropout 0.05 in training. 'ours' is the fused op (engine/ops/lora.ts);
// 'ours:composed' builds the same function from separate ops (dropout, three matmuls, scale, add)
// to show what the fusion buys.
import {
  add, backward, dropout, loraLinear, matmul, mulScalar, read, relErr, rng, scope, scopeAsync, sync, tensor, zeroGrad, type Tensor,
} from '../engine/index.ts';
import { dropKeep, dropScale, dropThreshold } from '../engine/reference/dropout.ts';
import type { BenchCase, BenchOpts, BenchSuite } from './types.ts';

interface Shape {
  M: number; // tokens
  K: number; // in
  N: number; // out
  R: number; // rank
}

const P = 0.05;
const SCALE = 2; // alpha / r
const SEED = 1234;

function data(n: number, seed: number, amp = 1): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (r.uniform() * 2 - 1) * amp;
  return a;
}

function lcase(s: Shape, system: 'ours' | 'ours:composed'): BenchCase {
  const { M, K, N, R } = s;
  return {
    kernel: 'lora_linear_fwd_bwd',
    shape: `${M}x${K}x${N}_r${R}`,
    system,
    flops: 4 * M * N * K + 6 * M * K * R + 6 * M * N * R,
    bytes: 4 * (2 * M * K + N * K + 2 * M * N + 2 * R * (K + N)),
    ceiling: 'compute',
    async setup() {
      const X = data(M * K, 1);
      const W = data(N * K, 2, 1 / Math.sqrt(K));
      const A = data(R * K, 3, 1 / Math.sqrt(K));
      const B = data(N * R, 4, 0.1);
      const x = tensor(X, [M, K], { requiresGrad: true });
      const w = tensor(W, [N, K]);
      const a = tensor(A, [R, K], { requiresGrad: true });
      const b = tensor(B, [N, R], { requiresGrad: true });
      const g = tensor(data(M * N, 5), [M, N]);
      const fwd = (): Tensor =>
        system === 'ours'
          ? loraLinear(x, w, a, b, { scale: SCALE, dropout: P, seed: SEED, training: true })
          : add(matmul(x, w, { transB: true }), mulScalar(matmul(matmul(dropout(x, P, SEED), a, { transB: true }), b, { transB: true }), SCALE));
      return {
        async run() {
          scope(() => backward(fwd(), g));
          zeroGrad([x, a, b]);
          await sync();
        },
        async relErr() {
          // forward output on a few rows against the float64 reference (same mask)
          const rows = [0, Math.floor(M / 2), M - 1];
          const y = await scopeAsync(async () => read(fwd()));
          const out: number[] = [];
          const ref: number[] = [];
          for (const m of rows) {
            const r = refRow(X, W, A, B, m, s);
            for (let n = 0; n < N; n++) {
              out.push(y[m * N + n]!);
              ref.push(r[n]!);
            }
          }
          return relErr(out, ref);
        },
        dispose() {
          for (const t of [x, w, a, b, g]) t.dispose();
        },
      };
    },
  };
}

/** Row m of the float64 LoRA forward (engine/reference/lora.ts's formula; the full reference is O(M·N·K) in JS). */
function refRow(X: Float32Array, W: Float32Array, A: Float32Array, B: Float32Array, m: number, s: Shape): Float64Array {
  const { N, K, R } = s;
  const thr = dropThreshold(P);
  const sc = SCALE * dropScale(P);
  const t = new Float64Array(R);
  for (let j = 0; j < R; j++) {
    let acc = 0;
    for (let k = 0; k < K; k++) acc += dropKeep(SEED, m * K + k, thr) * X[m * K + k]! * A[j * K + k]!;
    t[j] = sc * acc;
  }
  const y = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let acc = 0;
    for (let k = 0; k < K; k++) acc += X[m * K + k]! * W[n * K + k]!;
    for (let j = 0; j < R; j++) acc += t[j]! * B[n * R + j]!;
    y[n] = acc;
  }
  return y;
}

function shapes(o: BenchOpts): Shape[] {
  if (o.smoke) return [{ M: 33, K: 24, N: 20, R: 4 }];
  const all = [8, 16].map((R) => ({ M: 2048, K: 768, N: 768, R }));
  return o.size ? all.filter((s) => s.M === o.size) : all;
}

export const suite: BenchSuite = {
  name: 'lora',
  cases: (o) => shapes(o).flatMap((s) => [lcase(s, 'ours'), lcase(s, 'ours:composed')]),
};
