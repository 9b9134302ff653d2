// Peer: onnxruntime-web's WebGPU execution provider (its C++ EP with hand-written WGSL MatMul, Softmax
// and FlashAttention) on the engine's Dawn adapter, in Node. What it takes (see also
// ../shared/notes/peers-on-dawn.md):
// - the entry point `onnxruntime-web/webgpu` (the package's default Node entry has no WebGPU backend);
//   navigator.gpu is the engine's GPU object (navigator.ts); one wasm thread; the .wasm files are read
//   from node_modules;
// - ORT's wasm heap is a SharedArrayBuffer, which Dawn's queue.writeBuffer refuses: views on one are
//   copied into a plain ArrayBuffer first (a wrapper installed on GPUQueue.prototype, for this peer's
//   sake only: the engine never passes such views);
// - V8 compiles ORT's ≈ 27 MB of wasm in the background after load; timed cases first wait until that
//   is done (no CPU used by threads other than the JS one for 2 s), so it does not run beside the timed
//   work (smoke runs skip the wait);
// - the EP drops its device when its last session closes, so one session stays open for the process.
// One-node models (onnx-model.ts); each repetition is one session.run(), which resolves once the
// output is back on the host (ORT-web has no other completion point; the download is part of its time).
import type * as ORT from 'onnxruntime-web';
import { threadCpu } from '../../engine/thread-cpu.ts';
import { attentionShapes, attnKey, matmulShapes, softmaxShapes, type AttnShape } from '../shapes.ts';
import type { BenchCase, BenchInstance, BenchSuite } from '../types.ts';
import { attentionBthd } from './attention-bthd.ts';
import { shareNavigatorGpu } from './navigator.ts';
import { onnxMatmulCase, onnxSoftmaxCase } from './onnx-cases.ts';
import { oneNodeModel, type OnnxIO, type OnnxNode } from './onnx-model.ts';
import { unavailable } from './unavailable.ts';

export const SYSTEM = 'onnxruntime-webgpu';
let loading: Promise<typeof ORT> | null = null;
let keeper: ORT.InferenceSession | null = null;

type Bytes = ArrayBuffer | ArrayBufferView;

/** Copies views on a SharedArrayBuffer into plain memory before Dawn's queue writes see them. */
function unshareQueueWrites(): void {
  const q = GPUQueue.prototype as GPUQueue & { __csrmUnshared?: boolean };
  if (q.__csrmUnshared) return;
  const plain = (data: unknown, offset?: number, size?: number): [Bytes, number | undefined, number | undefined] => {
    if (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer) return [new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice(), offset, size];
    if (data instanceof SharedArrayBuffer) return [new Uint8Array(data).slice(), offset, size];
    return [data as Bytes, offset, size];
  };
  const writeBuffer = q.writeBuffer;
  q.writeBuffer = function (this: GPUQueue, buffer: GPUBuffer, bufferOffset: number, data: Bytes, dataOffset?: number, size?: number) {
    const [d, o, s] = plain(data, dataOffset, size);
    // a copied view starts at byte 0: offsets count elements of the original view's type, which the
    // copy (Uint8Array) would misread, so they are applied before the copy
    if (d !== data && ArrayBuffer.isView(data) && (o !== undefined || s !== undefined)) {
      const bpe = (data as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
      const start = (o ?? 0) * bpe;
      const len = s !== undefined ? s * bpe : data.byteLength - start;
      return writeBuffer.call(this, buffer, bufferOffset, (d as Uint8Array).subarray(start, start + len));
    }
    return writeBuffer.call(this, buffer, bufferOffset, d, o, s);
  } as GPUQueue['writeBuffer'];
  const writeTexture = q.writeTexture;
  q.writeTexture = function (this: GPUQueue, dest: GPUTexelCopyTextureInfo, data: Bytes, layout: GPUTexelCopyBufferLayout, size: GPUExtent3D) {
    return writeTexture.call(this, dest, plain(data)[0], layout, size);
  } as GPUQueue['writeTexture'];
  q.__csrmUnshared = true;
}

/** Resolves once threads other than the JS one have used < 10% of a core for 2 s (V8's background wasm compile is done), or after 180 s. */
async function backgroundQuiet(): Promise<void> {
  const t0 = performance.now();
  let last = threadCpu();
  if (!last) return;
  while (performance.now() - t0 < 180_000) {
    await new Promise((r) => setTimeout(r, 2000));
    const now = threadCpu()!;
    if (now.otherMs - last.otherMs < 200) return;
    last = now;
  }
}

export function loadOrtWeb(): Promise<typeof ORT> {
  loading ??= (async () => {
    await shareNavigatorGpu();
    unshareQueueWrites();
    const ort = (await import('onnxruntime-web/webgpu')) as unknown as typeof ORT;
    ort.env.wasm.numThreads = 1;
    const x: OnnxIO = { name: 'x', shape: [1, 4] };
    keeper = await ort.InferenceSession.create(oneNodeModel('Relu', [x], { name: 'y', shape: [1, 4] }), { executionProviders: ['webgpu'] });
    await keeper.run({ x: new ort.Tensor('float32', new Float32Array(4), [1, 4]) });
    return ort;
  })();
  return loading;
}

export const ortWebUnavailable = (): Promise<string | null> => unavailable(loadOrtWeb);

let quiet: Promise<void> | null = null;
let timed = true; // false in smoke runs: nothing is timed, so no need to wait for the compiler

async function instance(node: string | OnnxNode, ins: (OnnxIO & { data: Float32Array })[], out: OnnxIO, err: (y: Float32Array) => number): Promise<BenchInstance> {
  const ort = await loadOrtWeb();
  if (timed) await (quiet ??= backgroundQuiet());
  const session = await ort.InferenceSession.create(oneNodeModel(node, ins, out), { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' });
  const feeds: Record<string, ORT.Tensor> = {};
  for (const i of ins) feeds[i.name] = new ort.Tensor('float32', i.data, [...i.shape]);
  const once = async () => (await session.run(feeds))[out.name]!;
  return {
    async run() {
      (await once()).dispose();
    },
    async relErr() {
      const y = await once();
      const e = err((await y.getData()) as Float32Array);
      y.dispose();
      return e;
    },
    dispose: () => session.release(),
  };
}

/** Causal attention as com.microsoft MultiHeadAttention (unidirectional = 1), the op ORT-web runs as FlashAttention. */
function attentionCase(s: AttnShape): BenchCase {
  return {
    kernel: 'attention_fwd',
    shape: attnKey(s),
    system: SYSTEM,
    flops: 2 * s.B * s.H * s.T * s.T * s.D,
    ceiling: 'compute',
    async setup() {
      const d = attentionBthd(s);
      const packed = [s.B, s.T, s.H * s.D];
      const ins = (['q', 'k', 'v'] as const).map((n) => ({ name: n, shape: packed, data: d[n] }));
      const node: OnnxNode = { op: 'MultiHeadAttention', domain: 'com.microsoft', attributes: { num_heads: s.H, unidirectional: 1 } };
      return instance(node, ins, { name: 'o', shape: packed }, d.err);
    },
  };
}

export const suite: BenchSuite = {
  name: SYSTEM,
  cases: (o) => {
    timed = !o.smoke;
    return [
      ...matmulShapes(o).map((s) => onnxMatmulCase(SYSTEM, instance, s)),
      ...softmaxShapes(o).map((s) => onnxSoftmaxCase(SYSTEM, instance, s.rows, s.cols)),
      ...attentionShapes(o).map(attentionCase),
    ];
  },
};
