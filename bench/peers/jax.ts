// Peer: @jax-js/jax on WebGPU, on the engine's Dawn adapter (navigator.gpu shared, Iterator helpers
// polyfilled on Node 20). Functions are jit-compiled as a jax user would; jax-js arrays are
// reference-counted and consumed by ops, so inputs are passed as `.ref`. Each repetition ends with
// blockUntilReady() on the output.
import type * as JAX from '@jax-js/jax';
import { relErr } from '../../engine/gradcheck.ts';
import { hostInput, memoRef } from '../inputs.ts';
import { matmulData, matmulMeta } from '../matmul-default.ts';
import { unavailable } from './unavailable.ts';
import { softmaxData } from '../softmax.ts';
import { attentionRows, sampleRows } from '../reference.ts';
import { attentionShapes, attnKey, matmulShapes, type MatmulShape, softmaxShapes, type AttnShape } from '../shapes.ts';
import type { BenchCase, BenchInstance, BenchSuite } from '../types.ts';
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
    kernel: 'softmax',
    shape: `${rows}x${cols}`,
    system: SYSTEM,
    bytes: 8 * rows * cols,
    ceiling: 'bandwidth',
    tolerance: 1e-5,
    async setup() {
      const jax = await loadJax();
      const d = softmaxData(rows, cols);
      const x = jax.numpy.array(d.X, { shape: [rows, cols] });
      return instance([x], jax.jit((v: Arr) => jax.nn.softmax(v, -1)), d.err);
    },
  };
}

/** [B,H,T,D] → [B,T,H,D] (jax's dotProductAttention layout), on the host. */
function toBTHD(x: Float32Array, s: AttnShape): Float32Array {
  const { B, H, T, D } = s;
  const y = new Float32Array(x.length);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let t = 0; t < T; t++)
        for (let c = 0; c < D; c++) y[((b * T + t) * H + h) * D + c] = x[((b * H + h) * T + t) * D + c]!;
  return y;
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
      const shape = [s.B, s.H, s.T, s.D];
      const [Q, K, V] = ['q', 'k', 'v'].map((n) => hostInput(`attn_${n}`, shape));
      const rows = sampleRows(s.B * s.H * s.T);
      const ref = memoRef(`attn:${attnKey(s)}`, () => attentionRows(Q!, K!, V!, s, rows));
      const [q, k, v] = [Q!, K!, V!].map((a) => jax.numpy.array(toBTHD(a, s), { shape: [s.B, s.T, s.H, s.D] }));
      const f = jax.jit((a: Arr, b: Arr, c: Arr) => jax.nn.dotProductAttention(a, b, c, { isCausal: true }));
      return instance([q!, k!, v!], f, (y) => {
        // y is [B,T,H,D]; compare the sampled (b·H + h, t) rows
        const { H, T, D } = s;
        const got = new Float64Array(rows.length * D);
        rows.forEach((row, i) => {
          const b = Math.floor(row / (H * T));
          const h = Math.floor(row / T) % H;
          const t = row % T;
          for (let c = 0; c < D; c++) got[i * D + c] = y[((b * T + t) * H + h) * D + c]!;
        });
        return relErr(got, ref);
      });
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
