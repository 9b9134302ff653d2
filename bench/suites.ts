// The benchmark suites the runner and the smoke test know. Ours first, then peers (each peer's
// load failure becomes a visible note, never a crash). Ceilings are measured separately, first.
// To add a family at merge: one line `{ name, load: () => import('./NAME.ts') }` below. Families
// still to add when their branches land: matmul, attention, norm, losses, lora, adamw.
import type { BenchSuite } from './types.ts';

export interface SuiteEntry {
  name: string;
  kind: 'ours' | 'peer';
  load(): Promise<{ suite: BenchSuite }>;
}

export const SUITES: SuiteEntry[] = [
  { name: 'elementwise', kind: 'ours', load: () => import('./elementwise.ts') },
  { name: 'matmul_generic', kind: 'ours', load: () => import('./matmul_generic.ts') },
  { name: 'softmax', kind: 'ours', load: () => import('./softmax.ts') },
  { name: 'tfjs-webgpu', kind: 'peer', load: () => import('./peers/tfjs.ts') },
  { name: 'jax-js-webgpu', kind: 'peer', load: () => import('./peers/jax.ts') },
  { name: 'onnxruntime-cpu', kind: 'peer', load: () => import('./peers/ort.ts') },
];

/** The ceilings suite (always first in a run). */
export const CEILINGS: SuiteEntry = { name: 'ceilings', kind: 'ours', load: () => import('./ceilings.ts') };
