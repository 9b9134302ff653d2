// Training state on disk: the trainable tensors (LoRA adapters, or the whole model when training
// without LoRA), optimizer moments, step, the data cursor and the best-so-far record, written
// atomically by engine/checkpoint.ts so a killed run resumes where it was.
import { loadCheckpoint, loadTensorsInto, saveCheckpoint, type Adamw, type LossScale, type Tensor, type WeightAverage } from '../../engine/index.ts';
import { loraParams, namedTensors, type Llama } from '../../models/llama.ts';
import type { ProvenanceRecord } from '../stages/provenance.ts';

export interface TrainMeta {
  step: number;
  best: { step: number; f1: number };
  history: { step: number; loss: number; devF1?: number }[];
  cursor: unknown;
  /** What the run was made from and with (the loop's settings included): a resume must have the same. */
  provenance: ProvenanceRecord;
  /** Mixed precision: the loss scaler, so a resumed run scales and skips as the uninterrupted one. */
  lossScale?: LossScale;
}

/** The tensors a run trains, by name: LoRA adapters, or every weight without LoRA. */
export function trainedTensors(m: Llama): Record<string, Tensor> {
  return namedTensors(m, loraParams(m).length > 0 ? 'lora' : 'base');
}

/** The trained tensors, and a weight average's under "average/<name>" when there is one. */
function stateTensors(m: Llama, avg: WeightAverage | null): Record<string, Tensor> {
  const own = trainedTensors(m);
  return avg ? { ...own, ...Object.fromEntries(Object.entries(avg.tensors()).map(([n, t]) => [`average/${n}`, t])) } : own;
}

export async function saveTrainState(path: string, m: Llama, opt: Adamw | null, meta: TrainMeta, avg: WeightAverage | null = null): Promise<void> {
  const st = opt?.state();
  await saveCheckpoint(path, {
    config: m.config,
    tensors: stateTensors(m, avg),
    optimizer: st ? { step: st.step, m: st.m, v: st.v } : undefined,
    step: meta.step,
    cursor: meta.cursor,
    meta: { best: meta.best, history: meta.history, provenance: meta.provenance, ...(meta.lossScale ? { lossScale: meta.lossScale } : {}) },
  });
}

export async function loadTrainState(path: string, m: Llama, opt: Adamw | null, avg: WeightAverage | null = null): Promise<TrainMeta> {
  const c = await loadCheckpoint(path);
  loadTensorsInto(stateTensors(m, avg), c.tensors);
  if (opt) {
    if (!c.optimizer) throw new Error(`${path}: no optimizer state to resume from`);
    opt.load({ step: c.optimizer.step, m: c.optimizer.m.map((h) => h.data), v: c.optimizer.v.map((h) => h.data) });
  }
  const meta = (c.meta ?? {}) as Partial<TrainMeta>;
  return { step: c.step, best: meta.best ?? { step: -1, f1: -1 }, history: meta.history ?? [], cursor: c.cursor, provenance: meta.provenance!, lossScale: meta.lossScale };
}
