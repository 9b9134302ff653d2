// Sums folded into the products that feed them, side by side with the composition they replace, at
// the tiny decoder's relevance-step shapes (16 prompts × 106 tokens = 1,696 rows, dim 64, ffn 176):
// - `linear_add`: r + x·Wᵀ (the o and down projections with their residual), linearAdd (one kernel,
//   r added in the product's writes) against add(r, linear(x, W));
// - `grad_sum`: a second input gradient g·W summed into the first (autograd's in-place sum for the
//   normed input read by k and v, gate and up), matmulAccumulateRaw against matmul then add.
// Both systems compute the same bits; the float64 reference is r + x·Wᵀ / acc + g·W.
import { add, keep, linear, linearAdd, matmul, read, relErr, release, rng, sync, tensor, type Tensor } from '../engine/index.ts';
import { matmulAccumulateRaw } from '../engine/ops/matmul.ts';
import type { BenchCase, BenchOpts, BenchSuite } from './types.ts';

type Shape = [number, number, number]; // rows M, outputs N, inputs K

function data(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r.uniform() * 2 - 1);
}

/** float64 c0 + a·bᵀ (b [N, K], tB) or c0 + a·b (b [K, N]). */
function ref(a: Float32Array, b: Float32Array, c0: Float32Array, M: number, N: number, K: number, tB: boolean): Float64Array {
  const out = Float64Array.from(c0);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += a[m * K + k]! * b[tB ? n * K + k : k * N + n]!;
    out[m * N + n] += s;
  }
  return out;
}

function lcase([M, N, K]: Shape, fused: boolean): BenchCase {
  return {
    kernel: 'linear_add',
    shape: `${M}x${N}x${K}`,
    system: fused ? 'ours:fused' : 'ours:composed',
    flops: 2 * M * N * K + M * N,
    ceiling: 'compute',
    tune: { matmul: [{ batch: 1, M, N, K }] },
    async setup() {
      const [xs, ws, rs] = [data(M * K, 1), data(N * K, 2), data(M * N, 3)];
      const [x, w, r] = [keep(tensor(xs, [M, K])), keep(tensor(ws, [N, K])), keep(tensor(rs, [M, N]))];
      const f = (): Tensor => {
        if (fused) return linearAdd(x, w, r);
        const p = linear(x, w);
        const y = add(r, p);
        p.dispose();
        return y;
      };
      return {
        async run() {
          f().dispose();
          await sync();
        },
        async relErr() {
          const y = f();
          const got = await read(y);
          y.dispose();
          return relErr(got, ref(xs, ws, rs, M, N, K, true));
        },
        dispose() {
          release(x, w, r);
        },
      };
    },
  };
}

function gcase([M, N, K]: Shape, fused: boolean): BenchCase {
  // dX = g·W: g [M, N] (the projection's output gradient), W [N, K], summed into acc [M, K]
  return {
    kernel: 'grad_sum',
    shape: `${M}x${K}x${N}`,
    system: fused ? 'ours:in-place' : 'ours:composed',
    flops: 2 * M * N * K + M * K,
    ceiling: 'compute',
    tune: { matmul: [{ batch: 1, M, N: K, K: N }] },
    async setup() {
      const [gs, ws, cs] = [data(M * N, 4), data(N * K, 5), data(M * K, 6)];
      const [g, w] = [keep(tensor(gs, [M, N])), keep(tensor(ws, [N, K]))];
      const step = async (): Promise<Tensor> => {
        const acc = tensor(cs, [M, K]);
        if (fused && matmulAccumulateRaw(g, w, false, false, acc)) return acc;
        const p = matmul(g, w);
        const s = add(acc, p);
        for (const t of [acc, p]) t.dispose();
        return s;
      };
      return {
        async run() {
          (await step()).dispose();
          await sync();
        },
        async relErr() {
          const y = await step();
          const got = await read(y);
          y.dispose();
          return relErr(got, ref(gs, ws, cs, M, K, N, false));
        },
        dispose() {
          release(g, w);
        },
      };
    },
  };
}

/** linear_add: the o and down projections [rows, out, in]; grad_sum: the k/v and gate/up input gradients [rows, out, in]. */
function shapes(o: BenchOpts): { add: Shape[]; sum: Shape[] } {
  if (o.smoke) return { add: [[37, 12, 20]], sum: [[37, 12, 20]] };
  const pick = (all: Shape[]) => (o.size ? all.filter((s) => s[0] === o.size) : all);
  return { add: pick([[1696, 64, 64], [1696, 64, 176]]), sum: pick([[1696, 32, 64], [1696, 176, 64]]) };
}

export const suite: BenchSuite = {
  name: 'residual-sums',
  cases: (o) => {
    const s = shapes(o);
    return [...s.add.flatMap((x) => [lcase(x, true), lcase(x, false)]), ...s.sum.flatMap((x) => [gcase(x, true), gcase(x, false)])];
  },
};
