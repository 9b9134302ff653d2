// Matmul benchmark cases for our kernels: every variant at square sizes and the transformer shapes
// (M×N×K), f32 and f16 operands (the f16 variants: f32 accumulation, f16 output). relErr compares
// ~256 randomly sampled output entries with float64 dot products of the same inputs (for f16, the
// inputs as rounded to f16; a full float64 reference at 2048³ would take minutes on the host).
import * as E from '../engine/index.ts';
import { gpuSync } from '../engine/device.ts';
import type { BenchCase, BenchInstance, BenchOpts, BenchSuite } from './types.ts';
import { matmulMeta } from './matmul-default.ts';

const FULL: [number, number, number][] = [
  [256, 256, 256],
  [512, 512, 512],
  [1024, 1024, 1024],
  [2048, 2048, 2048],
  [2048, 256, 768], // transformer: tokens × d_model ← d_ff projection
  [2048, 768, 256],
];
const SMOKE: [number, number, number][] = [
  [33, 17, 20],
  [8, 12, 16],
];
const SAMPLES = 256;

function hostData(n: number, seed: number): Float32Array {
  const r = E.rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r.uniform() * 2 - 1;
  return a;
}

async function setupCase(variant: E.MatmulVariant | E.MatmulF16Variant, M: number, N: number, K: number, half = false): Promise<BenchInstance> {
  const before = E.liveBytes();
  const ah = hostData(M * K, 1).map(half ? E.roundF16 : (x) => x);
  const bh = hostData(K * N, 2).map(half ? E.roundF16 : (x) => x);
  const dtype = half ? 'f16' : 'f32';
  const a = E.keep(E.tensor(ah, [M, K], { dtype }));
  const b = E.keep(E.tensor(bh, [K, N], { dtype }));
  const product = () =>
    E.noGrad(() => {
      E.setMatmulVariant(variant);
      try {
        return E.matmul(a, b);
      } finally {
        E.setMatmulVariant(null); // the override is global: restore the adapter's choice at once
      }
    });
  const first = product();
  await E.sync();
  const peakBytes = E.liveBytes() - before;
  first.dispose();
  E.setMatmulVariant(variant);
  // broadcast falls back where its layout does not apply
  const ran = half ? E.matmulF16VariantFor({ batch: 1, M, N, K }) : E.matmulVariantRun({ batch: 1, M, N, K });
  E.setMatmulVariant(null);
  return {
    peakBytes,
    ...(ran !== variant ? { variant: `ran ${ran}` } : {}),
    async run() {
      product().dispose(); // the buffer returns to the pool; the GPU still finishes the work
      await E.sync();
    },
    async relErr() {
      const c = product();
      const out = await E.read(c);
      c.dispose();
      const r = E.rng(3);
      let num = 0;
      let den = 0;
      for (let s = 0; s < Math.min(SAMPLES, M * N); s++) {
        const i = r.int(M);
        const j = r.int(N);
        let ref = 0;
        for (let k = 0; k < K; k++) ref += ah[i * K + k]! * bh[k * N + j]!; // float64 sum of f32 inputs
        num += (out[i * N + j]! - ref) ** 2;
        den += ref * ref;
      }
      return Math.sqrt(num / den);
    },
    dispose() {
      a.dispose();
      b.dispose();
    },
  };
}

export const suite: BenchSuite = {
  name: 'matmul',
  cases(opts: BenchOpts): BenchCase[] {
    // 4096³ only on request (--size 4096): the H200 figure against the GPU's fp32 peak; minutes on lavapipe
    const full = opts.size === 4096 ? [...FULL, [4096, 4096, 4096] as [number, number, number]] : FULL;
    const shapes = (opts.smoke ? SMOKE : full).filter(([M]) => opts.size === undefined || M === opts.size);
    const out: BenchCase[] = [];
    for (const [M, N, K] of shapes) {
      for (const v of E.MATMUL_VARIANTS) {
        out.push({ ...matmulMeta({ M, N, K }, `ours:${v}`), tolerance: 1e-5, setup: () => setupCase(v, M, N, K) });
      }
      // the variants this adapter runs (the subgroup-matrix ones need matrix units)
      for (const v of E.matmulF16Variants(gpuSync().info)) {
        const meta = matmulMeta({ M, N, K }, `ours:f16-${v}`);
        // 2-byte operands and output; tolerance: the output's f16 rounding (u16 = 2^-11) and f32 sums
        out.push({ ...meta, bytes: meta.bytes! / 2, tolerance: 1e-3, setup: () => setupCase(v, M, N, K, true) });
      }
    }
    return out;
  },
};
