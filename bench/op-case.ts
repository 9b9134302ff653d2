// A BenchCase for one engine op on random inputs, system 'ours': run() launches the op under
// noGrad in a scope and waits; relErr() compares one GPU output with the op on the float64
// backend (these ops are O(n), so the full reference is cheap).
import * as E from '../engine/index.ts';
import type { BenchCase } from './types.ts';

export interface OpInput {
  shape: number[];
  dtype?: E.DType;
  /** Integer inputs: values drawn from [0, int); floats are uniform in ±[0.1, 1]. */
  int?: number;
}

export function opCase(kernel: string, shape: string, inputs: OpInput[], fn: (...xs: E.Tensor[]) => E.Tensor, bytes: number): BenchCase {
  return {
    kernel,
    shape,
    system: 'ours',
    bytes,
    ceiling: 'bandwidth',
    tolerance: 1e-5, // data movement and O(n) maps: f32 rounding only
    async setup() {
      const before = E.liveBytes();
      const r = E.rng(17);
      const host = inputs.map((inp) => {
        const n = inp.shape.reduce((a, b) => a * b, 1);
        return Float64Array.from({ length: n }, () =>
          inp.int !== undefined ? r.int(inp.int) : (r.uniform() < 0.5 ? -1 : 1) * Math.fround(0.1 + 0.9 * r.uniform()),
        );
      });
      const gpu = inputs.map((inp, i) => E.keep(E.tensor(host[i]!, inp.shape, { dtype: inp.dtype })));
      const once = () => E.noGrad(() => fn(...gpu));
      once().dispose();
      await E.sync();
      const peakBytes = E.liveBytes() - before + bytes; // inputs plus roughly one output in flight
      return {
        peakBytes,
        async run() {
          once().dispose();
          await E.sync();
        },
        async relErr() {
          const y = once();
          const out = await E.read(y);
          y.dispose();
          const cpu = inputs.map((inp, i) => E.tensor(host[i]!, inp.shape, { dtype: inp.dtype, backend: 'cpu' }));
          const ref = E.noGrad(() => fn(...cpu));
          const err = E.relErr(out, ref.cpu as Float64Array);
          for (const t of [...cpu, ref]) t.dispose();
          return err;
        },
        dispose() {
          for (const t of gpu) t.dispose();
        },
      };
    },
  };
}
