// where with a broadcast mask and maskedFill (attention-mask shapes).
import * as E from '../engine/index.ts';
import { opCase } from './op-case.ts';
import type { BenchCase, BenchOpts, BenchSuite } from './types.ts';

export const suite: BenchSuite = {
  name: 'where',
  cases(opts: BenchOpts): BenchCase[] {
    const [M, N] = opts.smoke ? [7, 5] : [2048, 768];
    if (opts.size !== undefined && opts.size !== M) return [];
    const n = M * N;
    return [
      opCase('where', `${M}x${N}`, [{ shape: [M, 1], dtype: 'u32', int: 2 }, { shape: [M, N] }, { shape: [M, N] }], (c, a, b) => E.where(c, a, b), 12 * n),
      // where's parts, to tell its cost apart: the same row kernel as a plain copy (a full-width
      // slice: one load and one store per word), and where with a full-size condition (no per-row splat)
      opCase('rows_copy', `${M}x${N}`, [{ shape: [M, N] }], (x) => E.slice(x, 1, 0, N), 8 * n),
      opCase('where_fullcond', `${M}x${N}`, [{ shape: [M, N], dtype: 'u32', int: 2 }, { shape: [M, N] }, { shape: [M, N] }], (c, a, b) => E.where(c, a, b), 16 * n),
      opCase('maskedFill', `${M}x${N}`, [{ shape: [M, N] }, { shape: [N], dtype: 'u32', int: 2 }], (x, m) => E.maskedFill(x, m, -1e4), 8 * n),
    ];
  },
};
