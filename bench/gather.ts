// Embedding lookup and its scatter-add backward (the backward's cost grows with V · n · D/4).
import * as E from '../engine/index.ts';
import { opCase } from './op-case.ts';
import type { BenchCase, BenchOpts, BenchSuite } from './types.ts';

export const suite: BenchSuite = {
  name: 'gather',
  cases(opts: BenchOpts): BenchCase[] {
    const [V, D, n] = opts.smoke ? [9, 8, 13] : [1000, 256, 2048];
    if (opts.size !== undefined && opts.size !== n) return [];
    const s = `V${V}xD${D}xn${n}`;
    return [
      opCase('gatherRows', s, [{ shape: [V, D] }, { shape: [n], dtype: 'i32', int: V }], (t, i) => E.gatherRows(t, i), 4 * (2 * n * D + n)),
      opCase('gatherRows_bwd', s, [{ shape: [n, D] }, { shape: [n], dtype: 'i32', int: V }], (g, i) => E.scatterRows(g, i, V), 4 * (n * D + V * D + n)),
    ];
  },
};
