// Reductions over one axis (engine sum): the rows of the last axis, the first axis (column sums, the
// shape of a bias gradient), and every element (sumAll); engine/ops/reduce.ts picks the layout. Bytes: the
// input read once plus the output written once.
import * as E from '../engine/index.ts';
import { opCase } from './op-case.ts';
import type { BenchCase, BenchOpts, BenchSuite } from './types.ts';

export const suite: BenchSuite = {
  name: 'reduce',
  cases(opts: BenchOpts): BenchCase[] {
    // 4096 × 1024 (16 MiB) as in the SFT step's bias and norm gradients, and 4096 × 4096 (64 MiB),
    // the elementwise cases' element count: a call's submit-and-wait (≈ 1.8 ms on lavapipe) is more
    // than the kernel at the smaller size, so only the larger one shows the kernel's bandwidth
    const sizes: [number, number][] = opts.smoke ? [[7, 133]] : [[4096, 1024], [4096, 4096]];
    const out: BenchCase[] = [];
    for (const [M, N] of sizes) {
      if (opts.size !== undefined && opts.size !== M) continue;
      const n = M * N;
      out.push(
        opCase('sum_rows', `${M}x${N}`, [{ shape: [M, N] }], (x) => E.sum(x, 1), 4 * (n + M)),
        opCase('sum_cols', `${M}x${N}`, [{ shape: [M, N] }], (x) => E.sum(x, 0), 4 * (n + N)),
        opCase('sum_all', `${n}`, [{ shape: [n] }], (x) => E.sumAll(x), 4 * (n + 1)),
      );
    }
    return out;
  },
};
