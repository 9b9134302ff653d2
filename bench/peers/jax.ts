// Peer: @jax-js/jax on WebGPU, on the engine's Dawn adapter (navigator.gpu shared, Iterator helpers
// polyfilled on Node 20). Functions are jit-compiled as a jax user would; jax-js arrays are
// reference-counted and consumed by ops, so inputs are passed as `.ref`. Each repetition ends with
// blockUntilReady() on the output.
import type * as JAX from '@jax-js/jax';
import { matmulData, matmulMeta } from '../matmul-default.ts';
import { unavailable } from './unavailable.ts';
import { softmaxData, softmaxMeta } from '../softmax.ts';
import { attentionShapes, attnKey, matmulShapes, type MatmulShape, softmaxShapes, type AttnShape } from '../shapes.ts';
import type { BenchCase, BenchInstance, BenchSuite } from '../types.ts';
import { attentionBthd } from './attention-bthd.ts';
import { polyfillIteratorHelpers } from './iterator-polyfill.ts';
import { shareNavigatorGpu } from './navigator.ts';

export const SYSTEM = 'jax-js-webgpu';
type Arr = JAX.Array;
let loading: Promise<typeof JAX> | null = null;

export function loadJax(): Promise<typeof JAX> {
  loading ??= (async () => {
    polyfillIteratorHelpers();
    await shareNavigatorGpu();
    const jax = await import('@jax-js/jax');
    const devs = await jax.init('webgpu');
    if (!devs.includes('webgpu')) throw new Error(`jax-js: no webgpu device on the shared adapter (got ${devs.join(', ')})`);
    jax.defaultDevice('webgpu');
    return jax;
  })();
  return loading;
}

export const jaxUnavailable = (): Promise<string | null> => unavailable(loadJax);

function instance(inputs: Arr[], f: (...xs: Arr[]) => Arr, err: (y: Float32Array) => number): BenchInstance {
  return {
    async run() {
      const y = f(...inputs.map((x) => x.ref));
      await y.blockUntilReady();
      y.dispose();
    },
    async relErr() {
      const y = f(...inputs.map((x) => x.ref));
      return err((await y.data()) as Float32Array);
    },
    dispose() {
      for (const x of inputs) x.dispose();
    },
  };
}

function matmulCase(s: MatmulShape): BenchCase {
  return {
    ...matmulMeta(s, SYSTEM),
    async setup() {
      const jax = await loadJax();
      const np = jax.numpy;
      const d = matmulData(s);
      const a = np.array(d.A, { shape: [s.M, s.K] });
      const b = np.array(d.B, { shape: [s.K, s.N] });
      return instance([a, b], jax.jit((x: Arr, y: Arr) => np.matmul(x, y)), d.err);
    },
  };
}

function softmaxCase(rows: number, cols: number): BenchCase {
  return {
    ...softmaxMeta(rows, cols, SYSTEM),
    async setup() {
      const jax = await loadJax();
      const d = softmaxData(rows, cols);
      const x = jax.numpy.array(d.X, { shape: [rows, cols] });
      return instance([x], jax.jit((v: Arr) => jax.nn.softmax(v, -1)), d.err);
    },
  };
}

function attentionCase(s: AttnShape): BenchCase {
  return {
    kernel: 'attention_fwd',
    shape: attnKey(s),
    system: SYSTEM,
    flops: 2 * s.B * s.H * s.T * s.T * s.D, // causal: half of 2 matmuls of T×T×D
    ceiling: 'compute',
    async setup() {
      const jax = await loadJax();
      const d = attentionBthd(s);
      const [q, k, v] = [d.q, d.k, d.v].map((a) => jax.numpy.array(a, { shape: [s.B, s.T, s.H, s.D] }));
      const f = jax.jit((a: Arr, b: Arr, c: Arr) => jax.nn.dotProductAttention(a, b, c, { isCausal: true }));
      return instance([q!, k!, v!], f, d.err);
    },
  };
}

export const suite: BenchSuite = {
  name: SYSTEM,
  cases: (o) => [
    ...matmulShapes(o).map(matmulCase),
    ...softmaxShapes(o).map((s) => softmaxCase(s.rows, s.cols)),
    ...attentionShapes(o).map(attentionCase),
  ],
};
