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

/** What every system's softmax case states about itself: name, shape, bytes moved (read x once, write y once), tolerance. */
export function softmaxMeta(rows: number, cols: number, system: string): Pick<BenchCase, 'kernel' | 'shape' | 'system' | 'bytes' | 'ceiling' | 'tolerance'> {
  return { kernel: 'softmax', shape: `${rows}x${cols}`, system, bytes: 8 * rows * cols, ceiling: 'bandwidth', tolerance: 1e-5 };
}

function ourCase(rows: number, cols: number): BenchCase {
  return {
    ...softmaxMeta(rows, cols, 'ours'),
    tune: { softmax: [{ rows, len: cols }] },
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
