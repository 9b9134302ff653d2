// Global-norm gradient clipping (engine/optim/clip.ts) over a parameter list: the tiny decoder's 21
// gradients (the SFT step's, with the label head; 284,672 values) and ~10M values in 100 tensors.
// Bandwidth bound: the partial sums read every gradient once, the scale reads and writes it once
// (12 bytes per value); 2 + 2⌈tensors/8⌉ + 1 launches here.
import { clipGradNorm, keep, read, relErr, release, rng, sync, tensor, zeroGrad, type Tensor } from '../engine/index.ts';
import { clipRef } from '../engine/reference/clip.ts';
import { makeConfig } from '../models/llama-config.ts';
import type { BenchCase, BenchOpts, BenchSuite } from './types.ts';

interface Shape {
  name: string;
  sizes: number[];
}

function data(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (r.uniform() * 2 - 1) * 0.01;
  return a;
}

/** The tiny preset's trained tensors as the SFT step lists them: embedding, per layer 2 norms + 7 projections, final norm, label head. */
function tinySizes(): number[] {
  const c = makeConfig('tiny', 3000);
  const kv = (c.dim / c.nHeads) * c.nKvHeads;
  const layer = [c.dim, c.dim * c.dim, kv * c.dim, kv * c.dim, c.dim * c.dim, c.dim, c.ffnDim * c.dim, c.ffnDim * c.dim, c.dim * c.ffnDim];
  return [c.vocabSize * c.dim, ...Array.from({ length: c.nLayers }, () => layer).flat(), c.dim, 3 * c.dim];
}

function ccase(s: Shape): BenchCase {
  const n = s.sizes.reduce((a, b) => a + b, 0);
  return {
    kernel: 'clip_grad_norm',
    shape: s.name,
    system: 'ours',
    bytes: 12 * n,
    ceiling: 'bandwidth',
    async setup() {
      const ps: Tensor[] = s.sizes.map((m, i) => {
        const p = keep(tensor(new Float32Array(m), [m], { requiresGrad: true }));
        p.grad = keep(tensor(data(m, 100 + i), [m]));
        return p;
      });
      return {
        async run() {
          // a maxNorm above the norm: the coefficient is 1, so repeated runs leave the gradients as they are
          clipGradNorm(ps, 1e9).dispose();
          await sync();
        },
        async relErr() {
          const g = await Promise.all(ps.map(async (p) => Float64Array.from(await read(p.grad!))));
          const want = clipRef(g, 1e9);
          const norm = clipGradNorm(ps, 1e9);
          const got = (await read(norm))[0]!;
          norm.dispose();
          return relErr([got], [want]);
        },
        dispose() {
          zeroGrad(ps);
          release(...ps);
        },
      };
    },
  };
}

function shapes(o: BenchOpts): Shape[] {
  const tiny = tinySizes();
  if (o.smoke) return [{ name: `tiny-step ${tiny.length}x`, sizes: tiny }];
  const all = [
    { name: `tiny-step ${tiny.length}x`, sizes: tiny },
    { name: '100x100003', sizes: Array.from({ length: 100 }, () => 100_003) },
  ];
  return o.size ? all.filter((s) => s.sizes.reduce((a, b) => a + b, 0) === o.size) : all;
}

export const suite: BenchSuite = { name: 'clip', cases: (o) => shapes(o).map(ccase) };
