// One fused AdamW step over ~10M parameters split into many tensors of odd sizes (the shape of a
// LoRA/transformer parameter list). Bandwidth bound: each step reads p, g, m, v and writes p, m, v
// (28 bytes per parameter).
import { adamw, keep, read, relErr, release, rng, sync, tensor, zeroGrad, type Tensor } from '../engine/index.ts';
import { adamwRef } from '../engine/reference/adamw.ts';
import type { BenchCase, BenchOpts, BenchSuite } from './types.ts';

interface Shape {
  tensors: number;
  each: number;
}

function data(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r.uniform() * 2 - 1;
  return a;
}

const HYPER = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

function acase(s: Shape): BenchCase {
  const n = s.tensors * s.each;
  return {
    kernel: 'adamw_step',
    shape: `${s.tensors}x${s.each}`,
    system: 'ours',
    bytes: 28 * n,
    ceiling: 'bandwidth',
    async setup() {
      const ps: Tensor[] = [];
      for (let i = 0; i < s.tensors; i++) {
        const p = keep(tensor(data(s.each, 10 + i), [s.each], { requiresGrad: true }));
        p.grad = keep(tensor(data(s.each, 1000 + i), [s.each]));
        ps.push(p);
      }
      const opt = adamw(ps, HYPER);
      return {
        async run() {
          opt.step();
          await sync();
        },
        async relErr() {
          // one step from the current state against the float64 reference, on a few tensors
          const pick = [0, Math.floor(s.tensors / 2), s.tensors - 1];
          const st = opt.state();
          const before = await Promise.all(pick.map(async (i) => ({
            p: Float64Array.from(await read(ps[i]!)),
            g: await read(ps[i]!.grad!),
            m: Float64Array.from(await read(st.m[i]!)),
            v: Float64Array.from(await read(st.v[i]!)),
          })));
          opt.step();
          const out: number[] = [];
          const ref: number[] = [];
          for (let j = 0; j < pick.length; j++) {
            const b = before[j]!;
            adamwRef(b.p, b.g, b.m, b.v, opt.state().step, HYPER);
            out.push(...(await read(ps[pick[j]!]!)));
            ref.push(...b.p);
          }
          return relErr(out, ref);
        },
        dispose() {
          zeroGrad(ps);
          opt.dispose();
          release(...ps);
        },
      };
    },
  };
}

function shapes(o: BenchOpts): Shape[] {
  if (o.smoke) return [{ tensors: 9, each: 1001 }];
  const all = [{ tensors: 100, each: 100_003 }];
  return o.size ? all.filter((s) => s.tensors * s.each === o.size) : all;
}

export const suite: BenchSuite = { name: 'adamw', cases: (o) => shapes(o).map(acase) };
