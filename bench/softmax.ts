// softmax / logSoftmax forward and fused backward over rows [rows × len] (both row layouts).
import * as E from '../engine/index.ts';
import { opCase } from './op-case.ts';
import type { BenchCase, BenchOpts, BenchSuite } from './types.ts';

export const suite: BenchSuite = {
  name: 'softmax',
  cases(opts: BenchOpts): BenchCase[] {
    const shapes = opts.smoke ? [[3, 5], [2, 300]] : [[8192, 64], [2048, 512], [512, 4096]];
    const out: BenchCase[] = [];
    for (const [rows, len] of shapes.filter(([r]) => opts.size === undefined || r === opts.size)) {
      const s = `${rows}x${len}`;
      const n = rows! * len!;
      out.push(opCase('softmax', s, [{ shape: [rows!, len!] }], (x) => E.softmax(x), 8 * n));
      out.push(opCase('logsoftmax', s, [{ shape: [rows!, len!] }], (x) => E.logSoftmax(x), 8 * n));
      // fused backward on random y and g (its cost does not depend on the values)
      out.push(opCase('softmax_bwd', s, [{ shape: [rows!, len!] }, { shape: [rows!, len!] }], (x, g) => E.softmaxBackward('softmax', x, g), 12 * n));
    }
    return out;
  },
};
