// Peer: onnxruntime-node on the CPU (what a user without a GPU path would pick; installs offline
// with ONNXRUNTIME_NODE_INSTALL=skip). One-node models (onnx-model.ts); each repetition is one
// session.run(), which returns when the output is computed.
import type * as ORT from 'onnxruntime-node';
import { cpus } from 'node:os';
import { matmulData, matmulMeta } from '../matmul-default.ts';
import { unavailable } from './unavailable.ts';
import { softmaxData } from '../softmax.ts';
import { matmulShapes, type MatmulShape, softmaxShapes } from '../shapes.ts';
import type { BenchCase, BenchInstance, BenchSuite } from '../types.ts';
import { oneNodeModel, type OnnxIO } from './onnx-model.ts';

export const SYSTEM = 'onnxruntime-cpu';
let loading: Promise<typeof ORT> | null = null;

export function loadOrt(): Promise<typeof ORT> {
  loading ??= import('onnxruntime-node').then((m) => {
    const ort = ((m as unknown as { default?: typeof ORT }).default ?? m) as typeof ORT;
    if (typeof ort.InferenceSession?.create !== 'function') throw new Error('onnxruntime-node: native binding did not load');
    return ort;
  });
  return loading;
}

export const ortUnavailable = (): Promise<string | null> => unavailable(loadOrt);

async function instance(op: string, ins: (OnnxIO & { data: Float32Array })[], out: OnnxIO, err: (y: Float32Array) => number): Promise<BenchInstance> {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(oneNodeModel(op, ins, out), {
    executionProviders: ['cpu'],
    intraOpNumThreads: cpus().length,
    graphOptimizationLevel: 'all',
  });
  const feeds: Record<string, ORT.Tensor> = {};
  for (const i of ins) feeds[i.name] = new ort.Tensor('float32', i.data, [...i.shape]);
  const once = async () => (await session.run(feeds))[out.name]!;
  return {
    async run() {
      (await once()).dispose();
    },
    async relErr() {
      const y = await once();
      const e = err(y.data as Float32Array);
      y.dispose();
      return e;
    },
    dispose: () => session.release(),
  };
}

function matmulCase(s: MatmulShape): BenchCase {
  return {
    ...matmulMeta(s, SYSTEM),
    onCpu: true,
    async setup() {
      const d = matmulData(s);
      const a = { name: 'a', shape: [s.M, s.K], data: d.A };
      const b = { name: 'b', shape: [s.K, s.N], data: d.B };
      return instance('MatMul', [a, b], { name: 'c', shape: [s.M, s.N] }, d.err);
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
    onCpu: true,
    async setup() {
      const d = softmaxData(rows, cols);
      return instance('Softmax', [{ name: 'x', shape: [rows, cols], data: d.X }], { name: 'y', shape: [rows, cols] }, d.err);
    },
  };
}

export const suite: BenchSuite = {
  name: SYSTEM,
  cases: (o) => [...matmulShapes(o).map(matmulCase), ...softmaxShapes(o).map((s) => softmaxCase(s.rows, s.cols))],
};
