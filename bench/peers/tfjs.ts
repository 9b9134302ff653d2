// Peer: @tensorflow/tfjs-core + tfjs-backend-webgpu on the engine's Dawn adapter (navigator.gpu is
// the engine's GPU object, see navigator.ts). Ops are what a tfjs user would write; every
// repetition ends with a one-element readback of the output (tfjs has no other completion point;
// the queue is in order, so it completes after the whole computation).
import type * as TF from '@tensorflow/tfjs-core';
import { relErr } from '../../engine/gradcheck.ts';
import { hostInput, hostLabels, hostPositive, memoRef } from '../inputs.ts';
import { matmulData, matmulMeta } from '../matmul-default.ts';
import { unavailable } from './unavailable.ts';
import { softmaxData, softmaxMeta } from '../softmax.ts';
import { adamwRef, ce3Ref, pickRows, rmsnormRows, sampleRows } from '../reference.ts';
import { ADAMW, adamwSizes, ce3Key, ce3Shapes, ce3Tokens, matmulShapes, type MatmulShape, RMS_EPS, rmsnormShapes, softmaxShapes, type Ce3Shape } from '../shapes.ts';
import type { BenchCase, BenchInstance, BenchSuite } from '../types.ts';
import { shareNavigatorGpu } from './navigator.ts';

export const SYSTEM = 'tfjs-webgpu';
let loading: Promise<typeof TF> | null = null;

/** Loads tfjs on the engine's adapter (once). Rejects with the reason when it cannot. */
export function loadTfjs(): Promise<typeof TF> {
  loading ??= (async () => {
    await shareNavigatorGpu();
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs: setBackend("webgpu") failed on the shared adapter');
    await tf.ready();
    return tf;
  })();
  return loading;
}

/** Why tfjs cannot run here, or null when it can. */
export const tfjsUnavailable = (): Promise<string | null> => unavailable(loadTfjs);

async function done(tf: typeof TF, y: TF.Tensor): Promise<void> {
  const one = tf.slice(tf.reshape(y, [-1]), 0, 1);
  await one.data();
  one.dispose();
}

/** An instance that computes `f(inputs)`; run() keeps inputs, frees the output after completion. */
function instance(tf: typeof TF, inputs: TF.Tensor[], f: () => TF.Tensor, err: (y: Float32Array) => number): BenchInstance {
  return {
    async run() {
      const y = tf.tidy(f);
      await done(tf, y);
      y.dispose();
    },
    async relErr() {
      const y = tf.tidy(f);
      const d = (await y.data()) as Float32Array;
      y.dispose();
      return err(d);
    },
    dispose() {
      for (const t of inputs) t.dispose();
    },
  };
}

function matmulCase(s: MatmulShape): BenchCase {
  return {
    ...matmulMeta(s, SYSTEM),
    async setup() {
      const tf = await loadTfjs();
      const d = matmulData(s);
      const a = tf.tensor2d(d.A, [s.M, s.K]);
      const b = tf.tensor2d(d.B, [s.K, s.N]);
      return instance(tf, [a, b], () => tf.matMul(a, b), d.err);
    },
  };
}

function softmaxCase(rows: number, cols: number): BenchCase {
  return {
    ...softmaxMeta(rows, cols, SYSTEM),
    async setup() {
      const tf = await loadTfjs();
      const d = softmaxData(rows, cols);
      const x = tf.tensor2d(d.X, [rows, cols]);
      return instance(tf, [x], () => tf.softmax(x), d.err);
    },
  };
}

function rmsnormCase(rows: number, cols: number): BenchCase {
  return {
    kernel: 'rmsnorm',
    shape: `${rows}x${cols}`,
    system: SYSTEM,
    bytes: 4 * (2 * rows * cols + cols),
    ceiling: 'bandwidth',
    async setup() {
      const tf = await loadTfjs();
      const X = hostInput('rmsnorm_x', [rows, cols]);
      const W = hostInput('rmsnorm_w', [cols]);
      const x = tf.tensor2d(X, [rows, cols]);
      const w = tf.tensor1d(W);
      const idx = sampleRows(rows);
      const ref = memoRef(`rmsnorm:${rows}x${cols}`, () => rmsnormRows(X, W, cols, idx));
      // y = x · rsqrt(mean(x²) + eps) · w, composed from tfjs ops
      const f = () => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), RMS_EPS))), w);
      return instance(tf, [x, w], f, (y) => relErr(pickRows(y, idx, cols), ref));
    },
  };
}

function adamwCase(n: number): BenchCase {
  return {
    kernel: 'adamw',
    shape: `${n}`,
    system: SYSTEM,
    bytes: 4 * n * 7, // read p, g, m, v; write p, m, v
    ceiling: 'bandwidth',
    tolerance: 1e-5,
    async setup() {
      const tf = await loadTfjs();
      const [P, G, M] = ['p', 'g', 'm'].map((k) => hostInput(`adamw_${k}`, [n]));
      const V = hostPositive('adamw_v', [n], 0.01, 0.1);
      const [p, g, m, v] = [P!, G!, M!, V].map((a) => tf.tensor1d(a));
      const { lr, b1, b2, eps, wd, t } = ADAMW;
      const c1 = 1 - b1 ** t;
      const c2 = 1 - b2 ** t;
      const ref = memoRef(`adamw:${n}`, () => adamwRef(P!, G!, M!, V));
      // m' and v' are computed (their kernels run) but only p' is returned and checked
      const f = () => {
        const m2 = tf.add(tf.mul(m!, b1), tf.mul(g!, 1 - b1));
        const v2 = tf.add(tf.mul(v!, b2), tf.mul(tf.square(g!), 1 - b2));
        const upd = tf.add(tf.div(tf.div(m2, c1), tf.add(tf.sqrt(tf.div(v2, c2)), eps)), tf.mul(p!, wd));
        return tf.sub(p!, tf.mul(upd, lr));
      };
      return instance(tf, [p!, g!, m!, v!], f, (y) => relErr(y, ref));
    },
  };
}

/** Shared inputs and float64 loss for the three-token CE (used by every system). */
export function ce3Data(s: Ce3Shape) {
  const H = hostInput('ce3_h', [s.B, s.D]);
  const W = hostInput('ce3_w', [s.V, s.D], 0.01, 0.1);
  const labels = hostLabels('ce3', s.B, 3);
  const tokens = ce3Tokens(s.V);
  const ref = memoRef(`ce3:${ce3Key(s)}`, () => ce3Ref(H, W, s, tokens, labels));
  return { H, W, labels, tokens, ref };
}

function ce3FullCase(s: Ce3Shape): BenchCase {
  return {
    kernel: 'ce3',
    shape: ce3Key(s),
    system: `${SYSTEM}:full-softmax`,
    flops: 2 * s.B * s.D * s.V, // the full logits matmul this path must do
    ceiling: 'compute',
    async setup() {
      const tf = await loadTfjs();
      const d = ce3Data(s);
      const h = tf.tensor2d(d.H, [s.B, s.D]);
      const w = tf.tensor2d(d.W, [s.V, s.D]);
      const tok = tf.tensor1d(Int32Array.from(d.tokens), 'int32');
      const onehot = tf.oneHot(tf.tensor1d(d.labels, 'int32'), 3);
      // all V logits → softmax over V → gather the three tokens → renormalise → mean CE
      const f = () => {
        const p = tf.softmax(tf.matMul(h, w, false, true));
        const p3 = tf.gather(p, tok, 1);
        const q = tf.div(p3, tf.sum(p3, -1, true));
        return tf.neg(tf.mean(tf.sum(tf.mul(tf.log(q), onehot), -1)));
      };
      return instance(tf, [h, w, tok, onehot], f, (y) => relErr([y[0]!], [d.ref]));
    },
  };
}

export const suite: BenchSuite = {
  name: SYSTEM,
  cases: (o) => [
    ...matmulShapes(o).map(matmulCase),
    ...softmaxShapes(o).map((s) => softmaxCase(s.rows, s.cols)),
    ...rmsnormShapes(o).map((s) => rmsnormCase(s.rows, s.cols)),
    ...adamwSizes(o).map(adamwCase),
    ...ce3Shapes(o).map(ce3FullCase),
  ],
};
