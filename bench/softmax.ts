// Our softmax over the last axis (engine/ops/softmax.ts, from the ops branch). The op is looked up
// at run time so this file compiles before it lands; until then cases() throws and the runner and
// the smoke test report the reason instead of a measurement.
import * as E from '../engine/index.ts';
import { read, sync, tensor, type Tensor } from '../engine/index.ts';
import { relErr } from '../engine/gradcheck.ts';
import { hostInput, memoRef } from './inputs.ts';
import { pickRows, sampleRows, softmaxRows } from './reference.ts';
import { softmaxShapes } from './shapes.ts';
import type { BenchCase, BenchSuite } from './types.ts';

type SoftmaxFn = (x: Tensor, axis?: number) => Tensor;

/** Shared host input and float64 reference rows for a softmax shape. */
export function softmaxData(rows: number, cols: number) {
  const X = hostInput('softmax_x', [rows, cols]);
  const idx = sampleRows(rows);
  const ref = () => memoRef(`softmax:${rows}x${cols}`, () => softmaxRows(X, cols, idx));
  return { X, err: (Y: ArrayLike<number>) => relErr(pickRows(Y, idx, cols), ref()) };
}

function ourCase(softmax: SoftmaxFn, rows: number, cols: number): BenchCase {
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
        y = softmax(x, -1);
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
  cases(o) {
    const softmax = (E as unknown as { softmax?: SoftmaxFn }).softmax;
    if (!softmax) throw new Error('engine has no softmax op on this branch (engine/ops/softmax.ts comes from branch ops)');
    return softmaxShapes(o).map((s) => ourCase(softmax, s.rows, s.cols));
  },
};
