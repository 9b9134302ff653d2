// Our matmul as the engine runs it (engine/ops/matmul.ts: the variant tuned for the shape's bucket,
// which the runner tunes before timing), as system 'ours', the row the ratios compare; the variant that ran is named beside it.
// bench/matmul.ts forces each variant in turn ('ours:<variant>').
import { matmul, matmulVariantRun, read, sync, tensor, type Tensor } from '../engine/index.ts';
import { relErr } from '../engine/gradcheck.ts';
import { hostInput, memoRef } from './inputs.ts';
import { matmulRows, pickRows, sampleRows } from './reference.ts';
import { matmulShapes, mmKey, type MatmulShape } from './shapes.ts';
import type { BenchCase, BenchSuite } from './types.ts';

/** Shared host operands and float64 reference rows for one matmul shape (used by every system). */
export function matmulData(s: MatmulShape) {
  const A = hostInput('matmul_a', [s.M, s.K]);
  const B = hostInput('matmul_b', [s.K, s.N]);
  const rows = sampleRows(s.M);
  const ref = () => memoRef(`matmul:${mmKey(s)}`, () => matmulRows(A, B, s, rows));
  /** rel err of a full row-major C against the reference rows */
  const err = (C: ArrayLike<number>) => relErr(pickRows(C, rows, s.N), ref());
  return { A, B, rows, ref, err };
}

/** What every system's matmul case states about itself: name, shape key, FLOPs and bytes moved. */
export function matmulMeta(s: MatmulShape, system: string): Pick<BenchCase, 'kernel' | 'shape' | 'system' | 'flops' | 'bytes' | 'ceiling'> {
  return { kernel: 'matmul', shape: mmKey(s), system, flops: 2 * s.M * s.N * s.K, bytes: 4 * (s.M * s.K + s.K * s.N + s.M * s.N), ceiling: 'compute' };
}

function ourCase(s: MatmulShape): BenchCase {
  return {
    ...matmulMeta(s, 'ours'),
    // the runner tunes the shape's bucket first, so the row runs what the engine would pick after tuning
    tune: { matmul: [{ batch: 1, M: s.M, N: s.N, K: s.K }] },
    async setup() {
      const d = matmulData(s);
      const a = tensor(d.A, [s.M, s.K]);
      const b = tensor(d.B, [s.K, s.N]);
      let c: Tensor | null = null;
      const run = async () => {
        c?.dispose();
        c = matmul(a, b);
        await sync();
      };
      return {
        run,
        variant: matmulVariantRun({ batch: 1, ...s }),
        async relErr() {
          await run();
          return d.err(await read(c!));
        },
        dispose() {
          c?.dispose();
          a.dispose();
          b.dispose();
        },
      };
    },
  };
}

export const suite: BenchSuite = {
  name: 'matmul-default',
  cases: (o) => matmulShapes(o).map(ourCase),
};
