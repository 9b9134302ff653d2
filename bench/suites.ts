// The benchmark suites the runner and the smoke test know. Ours first, then peers (each peer's
// load failure becomes a visible note, never a crash). Ceilings are measured separately, first.
// To add a family: one line `{ name, kind, load: () => import('./NAME.ts') }` below.
import type { BenchSuite } from './types.ts';

export interface SuiteEntry {
  name: string;
  kind: 'ours' | 'peer';
  load(): Promise<{ suite: BenchSuite }>;
}

export const SUITES: SuiteEntry[] = [
  { name: 'elementwise', kind: 'ours', load: () => import('./elementwise.ts') },
  { name: 'launch', kind: 'ours', load: () => import('./launch.ts') },
  { name: 'matmul-default', kind: 'ours', load: () => import('./matmul-default.ts') },
  { name: 'softmax', kind: 'ours', load: () => import('./softmax.ts') },
  { name: 'matmul', kind: 'ours', load: () => import('./matmul.ts') },
  { name: 'mma-ceiling', kind: 'ours', load: () => import('./mma-ceiling.ts') },
  { name: 'attention', kind: 'ours', load: () => import('./attention.ts') },
  { name: 'norm', kind: 'ours', load: () => import('./norm.ts') },
  { name: 'losses', kind: 'ours', load: () => import('./losses.ts') },
  { name: 'lora', kind: 'ours', load: () => import('./lora.ts') },
  { name: 'adamw', kind: 'ours', load: () => import('./adamw.ts') },
  { name: 'clip', kind: 'ours', load: () => import('./clip.ts') },
  { name: 'rope', kind: 'ours', load: () => import('./rope.ts') },
  { name: 'residual-sums', kind: 'ours', load: () => import('./residual-sums.ts') },
  { name: 'shape', kind: 'ours', load: () => import('./shape.ts') },
  { name: 'where', kind: 'ours', load: () => import('./where.ts') },
  { name: 'gather', kind: 'ours', load: () => import('./gather.ts') },
  { name: 'reduce', kind: 'ours', load: () => import('./reduce.ts') },
  { name: 'bm25', kind: 'ours', load: () => import('./bm25.ts') },
  { name: 'knn', kind: 'ours', load: () => import('./knn.ts') },
  { name: 'ebr-encode', kind: 'ours', load: () => import('./ebr-encode.ts') },
  { name: 'train-step', kind: 'ours', load: () => import('./train-step.ts') },
  { name: 'label-throughput', kind: 'ours', load: () => import('./label-throughput.ts') },
  { name: 'tfjs-webgpu', kind: 'peer', load: () => import('./peers/tfjs.ts') },
  { name: 'jax-js-webgpu', kind: 'peer', load: () => import('./peers/jax.ts') },
  { name: 'onnxruntime-cpu', kind: 'peer', load: () => import('./peers/ort.ts') },
  { name: 'onnxruntime-webgpu', kind: 'peer', load: () => import('./peers/ort-webgpu.ts') },
];

/** The ceilings suite (always first in a run). */
export const CEILINGS: SuiteEntry = { name: 'ceilings', kind: 'ours', load: () => import('./ceilings.ts') };
