// Our elementwise kernels (vec4, several vec4 per invocation): add, mul, gelu over n elements,
// in GB/s of compulsory traffic (inputs read once + output written once).
import { add, gelu, mul, read, sync, tensor, type Tensor } from '../engine/index.ts';
import { relErr } from '../engine/gradcheck.ts';
import { UNARY_REF, BINARY_REF } from '../engine/reference/elementwise.ts';
import { hostInput } from './inputs.ts';
import { elementwiseSizes } from './shapes.ts';
import type { BenchCase, BenchSuite } from './types.ts';

const OPS = {
  add: { arity: 2, f: (a: Tensor, b: Tensor) => add(a, b), ref: (x: number, y: number) => BINARY_REF.add!(x, y, 0) },
  mul: { arity: 2, f: (a: Tensor, b: Tensor) => mul(a, b), ref: (x: number, y: number) => BINARY_REF.mul!(x, y, 0) },
  gelu: { arity: 1, f: (a: Tensor) => gelu(a), ref: (x: number) => UNARY_REF.gelu!(x, 0) },
} as const;

function ourCase(op: keyof typeof OPS, n: number): BenchCase {
  const spec = OPS[op];
  return {
    kernel: op,
    shape: `${n}`,
    system: 'ours',
    bytes: 4 * n * (spec.arity + 1),
    flops: op === 'gelu' ? undefined : n, // gelu's flop count depends on how tanh is lowered
    ceiling: 'bandwidth',
    tolerance: 1e-5,
    async setup() {
      const X = hostInput('ew_x', [n]);
      const Y = hostInput('ew_y', [n]);
      const x = tensor(X, [n]);
      const y = tensor(Y, [n]);
      let out: Tensor | null = null;
      const run = async () => {
        out?.dispose();
        out = spec.f(x, y);
        await sync();
      };
      return {
        run,
        async relErr() {
          await run();
          const ref = Float64Array.from(X, (v, i) => spec.ref(v, Y[i]!));
          return relErr(await read(out!), ref);
        },
        dispose() {
          out?.dispose();
          x.dispose();
          y.dispose();
        },
      };
    },
  };
}

export const suite: BenchSuite = {
  name: 'elementwise',
  cases: (o) => elementwiseSizes(o).flatMap((n) => (['add', 'mul', 'gelu'] as const).map((op) => ourCase(op, n))),
};
