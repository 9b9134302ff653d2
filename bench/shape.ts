// Data-moving shape ops: transpose/permute, slice, concat (each reads and writes every element once).
import * as E from '../engine/index.ts';
import { permuteVia } from '../engine/ops/shape.ts';
import { opCase } from './op-case.ts';
import type { BenchCase, BenchOpts, BenchSuite } from './types.ts';

export const suite: BenchSuite = {
  name: 'shape',
  cases(opts: BenchOpts): BenchCase[] {
    const [M, N] = opts.smoke ? [7, 24] : [2048, 768];
    if (opts.size !== undefined && opts.size !== M) return [];
    const n = M * N;
    return [
      opCase('transpose', `${M}x${N}`, [{ shape: [M, N] }], (x) => E.transpose(x, 0, 1), 8 * n),
      // attention heads: [tokens, heads, headDim] → [heads, tokens, headDim]
      opCase('permute', `${M}x12x${N / 12}`, [{ shape: [M, 12, N / 12] }], (x) => E.permute(x, [1, 0, 2]), 8 * 12 * M * (N / 12)),
      // the same two through the rank-walking kernel (÷ and % per axis per element), the tile kernel's baseline
      opCase('transpose_walk', `${M}x${N}`, [{ shape: [M, N] }], (x) => permuteVia(x, [1, 0], 'walk'), 8 * n),
      opCase('permute_walk', `${M}x12x${N / 12}`, [{ shape: [M, 12, N / 12] }], (x) => permuteVia(x, [1, 0, 2], 'walk'), 8 * 12 * M * (N / 12)),
      opCase('slice', `${M}x${N}`, [{ shape: [M, N] }], (x) => E.slice(x, 1, 1, N), 8 * (n - M)),
      opCase('concat', `${M}x${N}`, [{ shape: [M, N] }, { shape: [M, N] }], (a, b) => E.concat([a, b], 1), 16 * n),
    ];
  },
};
