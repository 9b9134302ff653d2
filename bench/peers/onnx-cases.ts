// The cases every ONNX Runtime peer measures, built on one-node models (onnx-model.ts): the peer
// supplies how a model becomes a timed instance (its session and execution provider).
import { matmulData, matmulMeta } from '../matmul-default.ts';
import { softmaxData, softmaxMeta } from '../softmax.ts';
import type { MatmulShape } from '../shapes.ts';
import type { BenchCase, BenchInstance } from '../types.ts';
import type { OnnxIO, OnnxNode } from './onnx-model.ts';

export type OnnxInstance = (node: string | OnnxNode, ins: (OnnxIO & { data: Float32Array })[], out: OnnxIO, err: (y: Float32Array) => number) => Promise<BenchInstance>;

export function onnxMatmulCase(system: string, instance: OnnxInstance, s: MatmulShape, onCpu = false): BenchCase {
  return {
    ...matmulMeta(s, system),
    onCpu,
    async setup() {
      const d = matmulData(s);
      const a = { name: 'a', shape: [s.M, s.K], data: d.A };
      const b = { name: 'b', shape: [s.K, s.N], data: d.B };
      return instance('MatMul', [a, b], { name: 'c', shape: [s.M, s.N] }, d.err);
    },
  };
}

export function onnxSoftmaxCase(system: string, instance: OnnxInstance, rows: number, cols: number, onCpu = false): BenchCase {
  return {
    ...softmaxMeta(rows, cols, system),
    onCpu,
    async setup() {
      const d = softmaxData(rows, cols);
      return instance('Softmax', [{ name: 'x', shape: [rows, cols], data: d.X }], { name: 'y', shape: [rows, cols] }, d.err);
    },
  };
}
