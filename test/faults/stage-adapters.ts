// Adapters as a trained stage saves them — LoRA config and tensors, and the base they were trained on
// (the provenance loadAdapters checks) — from a seed, without training. Shared by the fault tests.
import { join } from 'node:path';
import { saveCheckpoint } from '../../engine/index.ts';
import { paperLora } from '../../models/llama-config.ts';
import { addLora, disposeLlama, namedTensors } from '../../models/llama.ts';
import { loadBase } from '../../pipeline/stages/model-io.ts';

export async function stageAdapters(base: string, dir: string, seed: number): Promise<string> {
  const { model: m, digest } = await loadBase(base);
  addLora(m, paperLora(m.config.dim), seed);
  const path = join(dir, `stage-${seed}.ckpt`);
  await saveCheckpoint(path, { config: m.config, tensors: namedTensors(m, 'lora'), step: 0, meta: { provenance: { hashes: { base: digest } } } });
  disposeLlama(m);
  return path;
}
