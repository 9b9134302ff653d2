// Rotary position embeddings (engine/ops/rope.ts): the tiny decoder's q and k in the SFT step
// (16 prompts × 106 tokens, 4 and 2 heads of 16) and a GPT-2-sized layer (512 tokens, 12 heads of 64).
// Bandwidth: x read and y written once (8 bytes per value, the positions aside); on lavapipe the
// angle's exp2, sin and cos, formed once per (token, pair) for every head, are much of the cost.
import { keep, read, relErr, release, rng, rope, sync, tensor, type Tensor } from '../engine/index.ts';
import { ropeRef } from '../engine/reference/rope.ts';
import type { BenchCase, BenchOpts, BenchSuite } from './types.ts';

type Shape = [number, number, number, number]; // B, T, H, Dh

function rcase(s: Shape): BenchCase {
  const [B, T, H, Dh] = s;
  const n = B * T * H * Dh;
  return {
    kernel: 'rope',
    shape: s.join('x'),
    system: 'ours',
    bytes: 8 * n,
    ceiling: 'bandwidth',
    async setup() {
      const r = rng(7);
      const xs = Float32Array.from({ length: n }, () => r.uniform() * 2 - 1);
      const ps = Int32Array.from({ length: B * T }, (_, i) => i % T);
      const x = keep(tensor(xs, [B, T, H, Dh]));
      const pos = keep(tensor(ps, [B, T], { dtype: 'i32' }));
      return {
        async run() {
          rope(x, pos).dispose();
          await sync();
        },
        async relErr() {
          const y = rope(x, pos);
          const got = await read(y);
          y.dispose();
          return relErr(got, ropeRef(xs, ps, B * T, H, Dh, 10000, 1));
        },
        dispose() {
          release(x, pos);
        },
      };
    },
  };
}

function shapes(o: BenchOpts): Shape[] {
  if (o.smoke) return [[2, 9, 2, 16]];
  const all: Shape[] = [[16, 106, 4, 16], [16, 106, 2, 16], [1, 512, 12, 64]];
  return o.size ? all.filter((s) => s.reduce((a, b) => a * b, 1) === o.size) : all;
}

export const suite: BenchSuite = { name: 'rope', cases: (o) => shapes(o).map(rcase) };
