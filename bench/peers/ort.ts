// Peer: onnxruntime-node on the CPU (what a user without a GPU path would pick; installs offline
// with ONNXRUNTIME_NODE_INSTALL=skip). One-node models (onnx-model.ts); each repetition is one
// session.run(), which returns when the output is computed.
import type * as ORT from 'onnxruntime-node';
import { cpus } from 'node:os';
import { unavailable } from './unavailable.ts';
import { matmulShapes, softmaxShapes } from '../shapes.ts';
import type { BenchInstance, BenchSuite } from '../types.ts';
import { onnxMatmulCase, onnxSoftmaxCase } from './onnx-cases.ts';
import { oneNodeModel, type OnnxIO, type OnnxNode } from './onnx-model.ts';

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

async function instance(op: string | OnnxNode, ins: (OnnxIO & { data: Float32Array })[], out: OnnxIO, err: (y: Float32Array) => number): Promise<BenchInstance> {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(oneNodeModel(op, ins, out), {
    executionProviders: ['cpu'],
    intraOpNumThreads: cpus().length,
    graphOptimizationLevel: 'all',
    // its idle threads spin after a run by default, taking the cores from whatever the rounds time
    // next (a copy after it in the softmax group ran 28 ms instead of 5)
    extra: { session: { intra_op: { allow_spinning: '0' } } },
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

export const suite: BenchSuite = {
  name: SYSTEM,
  cases: (o) => [
    ...matmulShapes(o).map((s) => onnxMatmulCase(SYSTEM, instance, s, true)),
    ...softmaxShapes(o).map((s) => onnxSoftmaxCase(SYSTEM, instance, s.rows, s.cols, true)),
  ],
};
