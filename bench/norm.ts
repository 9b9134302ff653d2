// RMSNorm forward and backward (engine ops, 'ours'), measured in GB/s: the bytes each direction
// must move at least (forward: read x, write y; backward: read x and dy, write dx, plus the second
// read of x and dy by the weight-gradient column sums).
import type { BenchCase, BenchInstance, BenchOpts, BenchSuite } from './types.ts';
import * as E from '../engine/index.ts';
import { normBackward, normForwardRaw } from '../engine/ops/norm.ts';
import { normBackwardRef, normForwardRef } from '../engine/reference/norm.ts';
import { rng } from '../engine/random.ts';

const FULL: [number, number][] = [
  [2048, 896], // Qwen2-0.5B hidden size, 2048 tokens
  [512, 4096],
  [8192, 64],
];
const SMOKE: [number, number][] = [
  [7, 12],
  [3, 5],
];

function data(n: number, seed: number): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: n }, () => r.normal());
}

function setupFor(rows: number, D: number, withBackward: boolean): () => Promise<BenchInstance> {
  return async () => {
    await E.initEngine();
    const before = E.liveBytes();
    const xd = data(rows * D, 1);
    const wd = data(D, 2);
    const gd = data(rows * D, 3);
    const x = E.keep(E.tensor(xd, [rows, D]));
    const w = E.keep(E.tensor(wd, [D]));
    const dy = E.keep(E.tensor(gd, [rows, D]));
    // backward cases keep one forward (y, stats) and run the backward kernels on it
    const saved = withBackward ? E.keep(normForwardRaw('rms', x, w, null, D, 1e-6)) : [];
    let outs: E.Tensor[] = [];
    const run = async () => {
      for (const t of outs) t.dispose();
      outs = E.keep(
        withBackward
          ? (normBackward('rms', x, w, saved[1]!, dy, { x: true, w: true, b: false }).filter((t) => t !== null) as E.Tensor[])
          : [E.noGrad(() => E.rmsNorm(x, w))],
      );
      await E.sync();
    };
    await run();
    return {
      run,
      peakBytes: E.liveBytes() - before,
      async relErr() {
        const f = normForwardRef('rms', xd, wd, null, rows, D, 1e-6);
        if (!withBackward) return E.relErr(await E.read(outs[0]!), f.y);
        const b = normBackwardRef('rms', xd, wd, f.stats, gd, rows, D);
        const out = [...(await E.read(outs[0]!)), ...(await E.read(outs[1]!))];
        return E.relErr(out, [...b.dx, ...b.dw]);
      },
      dispose() {
        for (const t of [x, w, dy, ...saved, ...outs]) t.dispose();
      },
    };
  };
}

export const suite: BenchSuite = {
  name: 'norm',
  cases(opts: BenchOpts): BenchCase[] {
    const shapes = (opts.smoke ? SMOKE : FULL).filter(([rows]) => opts.size === undefined || rows === opts.size);
    return shapes.flatMap(([rows, D]): BenchCase[] => [
      { kernel: 'rmsnorm_fwd', shape: `${rows}x${D}`, system: 'ours', bytes: 2 * rows * D * 4 + D * 4, ceiling: 'bandwidth', setup: setupFor(rows, D, false) },
      { kernel: 'rmsnorm_bwd', shape: `${rows}x${D}`, system: 'ours', bytes: 5 * rows * D * 4 + 2 * D * 4, ceiling: 'bandwidth', setup: setupFor(rows, D, true) },
    ]);
  },
};
