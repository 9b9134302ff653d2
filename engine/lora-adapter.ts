// LoRA adapters saved and loaded on their own, apart from the frozen base model: a checkpoint
// (engine/checkpoint.ts format) holding only `<module>.lora_A.weight` [r, in] and
// `<module>.lora_B.weight` [out, r] (PEFT's names) and the adapter config.
import { loadCheckpoint, saveCheckpoint, type HostTensor } from './checkpoint.ts';
import type { Tensor } from './tensor.ts';

export interface LoraAdapterConfig {
  r: number;
  alpha: number;
  dropout: number;
  targetModules?: string[];
  [k: string]: unknown;
}

const KIND = 'lora-adapter';

export async function saveLoraAdapter(path: string, adapters: Record<string, { a: Tensor; b: Tensor }>, config: LoraAdapterConfig, step = 0): Promise<void> {
  const tensors: Record<string, Tensor> = {};
  for (const [name, { a, b }] of Object.entries(adapters)) {
    if (a.shape[0] !== config.r || b.shape[1] !== config.r) {
      throw new Error(`saveLoraAdapter: "${name}" has A [${a.shape}] and B [${b.shape}], config r = ${config.r}`);
    }
    tensors[`${name}.lora_A.weight`] = a;
    tensors[`${name}.lora_B.weight`] = b;
  }
  await saveCheckpoint(path, { config: { kind: KIND, ...config }, tensors, step });
}

export async function loadLoraAdapter(path: string): Promise<{ config: LoraAdapterConfig; adapters: Record<string, { a: HostTensor; b: HostTensor }> }> {
  const c = await loadCheckpoint(path);
  const cfg = c.config as (LoraAdapterConfig & { kind?: string }) | null;
  if (!cfg || cfg.kind !== KIND) throw new Error(`loadLoraAdapter(${path}): not a LoRA adapter file (kind ${cfg?.kind})`);
  const adapters: Record<string, { a: HostTensor; b: HostTensor }> = {};
  for (const name of Object.keys(c.tensors)) {
    const m = /^(.*)\.lora_A\.weight$/.exec(name);
    if (!m) continue;
    const b = c.tensors[`${m[1]}.lora_B.weight`];
    if (!b) throw new Error(`loadLoraAdapter(${path}): "${m[1]}" has lora_A but no lora_B`);
    adapters[m[1]!] = { a: c.tensors[name]!, b };
  }
  const { kind: _kind, ...config } = cfg;
  void _kind;
  return { config: config as LoraAdapterConfig, adapters };
}
