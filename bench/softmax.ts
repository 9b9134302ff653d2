// Our softmax over the last axis (engine/ops/softmax.ts): one read and one write per element, so
// it is measured against the copy bandwidth ceiling.
import { read, softmax, sync, tensor, type Tensor } from '../engine/index.ts';
import { relErr } from '../engine/gradcheck.ts';
import { hostInput, memoRef } from './inputs.ts';
import { pickRows, sampleRows, softmaxRows } from './reference.ts';
import { softmaxShapes } from './shapes.ts';
import type { BenchCase, BenchSuite } from './types.ts';

/** Shared host input and float64 reference rows for a softmax shape. */
export function softmaxData(rows: number, cols: number) {
  const X = hostInput('softmax_x', [rows, cols]);
  const idx = sampleRows(rows);
  const ref = () => memoRef(`softmax:${rows}x${cols}`, () => softmaxRows(X, cols, idx));
  return { X, err: (Y: ArrayLike<number>) => relErr(pickRows(Y, idx, cols), ref()) };
}

function ourCase(rows: number, cols: number): BenchCase {
  return {
    kernel: 'softmax',
    shape: `${rows}x${cols}`,
    system: 'ours',
    bytes: 8 * rows * cols, // read x once, write y once
    ceiling: 'bandwidth',
    tune: { softmax: [{ rows, len: cols }] },
    tolerance: 1e-5,
    async setup() {
      const d = softmaxData(rows, cols);
      const x = tensor(d.X, [rows, cols]);
      let y: Tensor | null = null;
      const run = async () => {
        y?.dispose();
        y = softmax(x);
        await sync();
      };
      return {
        run,
        async relErr() {
          await run();
          return d.err(await read(y!));
        },
        dispose() {
          y?.dispose();
          x.dispose();
        },
      };
    },
  };
}

export const suite: BenchSuite = {
  name: 'softmax',
  cases: (o) => softmaxShapes(o).map((s) => ourCase(s.rows, s.cols)),
};
