// Model files of a run: the base model (full weights + config) and the LoRA adapters that each
// stage trains on top of it (saved by pipeline/train/state.ts as best.ckpt / last.ckpt).
import { existsSync } from 'node:fs';
import { loadCheckpoint, loadTensorsInto, saveCheckpoint } from '../../engine/index.ts';
import { validateConfig, type LlamaConfig } from '../../models/llama-config.ts';
import { addLora, initLlama, namedTensors, type Llama } from '../../models/llama.ts';

export async function saveBase(path: string, m: Llama, meta: unknown = {}): Promise<void> {
  await saveCheckpoint(path, { config: { ...m.config, lora: null }, tensors: namedTensors(m, 'base'), step: 0, meta });
}

/** Loads a base model (no adapters). */
export async function loadBase(path: string): Promise<{ model: Llama; meta: unknown }> {
  if (!existsSync(path)) throw new Error(`base model ${path} not found (run \`csrm pretrain\` or import safetensors)`);
  const c = await loadCheckpoint(path);
  const config = validateConfig(c.config as LlamaConfig);
  const model = initLlama({ ...config, lora: null }, 0);
  loadTensorsInto(namedTensors(model, 'base'), c.tensors);
  return { model, meta: c.meta };
}

/**
 * Loads what a stage trained on top of the base model: its LoRA adapters (added, shaped by the
 * checkpoint's LoRA config), or, for a stage trained without LoRA (`sft.adapter: "full"`), the whole
 * fine-tuned model's weights.
 */
export async function loadAdapters(model: Llama, path: string): Promise<void> {
  const c = await loadCheckpoint(path);
  const cfg = c.config as LlamaConfig;
  if (!cfg.lora) {
    if (model.config.lora) throw new Error(`${path}: a fully fine-tuned model cannot be loaded into a model that has LoRA adapters`);
    loadTensorsInto(namedTensors(model, 'base'), c.tensors);
    return;
  }
  addLora(model, cfg.lora, 0);
  loadTensorsInto(namedTensors(model, 'lora'), c.tensors);
}
