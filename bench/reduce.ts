// Reductions over one axis (engine sum): the rows of the last axis (one workgroup per row), the
// first axis (column sums, the shape of a bias gradient), and every element (sumAll). Bytes: the
// input read once plus the output written once.
import * as E from '../engine/index.ts';
import { opCase } from './op-case.ts';
import type { BenchCase, BenchOpts, BenchSuite } from './types.ts';

export const suite: BenchSuite = {
  name: 'reduce',
  cases(opts: BenchOpts): BenchCase[] {
    const [M, N] = opts.smoke ? [7, 133] : [4096, 1024];
    if (opts.size !== undefined && opts.size !== M) return [];
    const n = M * N;
    return [
      opCase('sum_rows', `${M}x${N}`, [{ shape: [M, N] }], (x) => E.sum(x, 1), 4 * (n + M)),
      opCase('sum_cols', `${M}x${N}`, [{ shape: [M, N] }], (x) => E.sum(x, 0), 4 * (n + N)),
      opCase('sum_all', `${n}`, [{ shape: [n] }], (x) => E.sumAll(x), 4 * (n + 1)),
    ];
  },
};
