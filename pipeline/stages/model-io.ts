// Model files of a run: the base model (full weights + config) and the LoRA adapters that each
// stage trains on top of it (saved by pipeline/train/state.ts as best.ckpt / last.ckpt). A base
// records what it was made from (its market, its tokenizer, its pretraining settings); a stage's
// checkpoint records the base it was trained on, and loading it onto any other base is refused.
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { checkpointDigest, loadCheckpoint, loadTensorsInto, readCheckpointMeta, saveCheckpoint } from '../../engine/index.ts';
import { validateConfig, type LlamaConfig } from '../../models/llama-config.ts';
import { addLora, initLlama, namedTensors, untieLabels, type Llama } from '../../models/llama.ts';
import { loadTokenizer, type Tokenizer } from '../tokenizer/tokenizer.ts';
import { recordedTokenizer, type TokenizerRef } from '../tokenizer/tokenizer-record.ts';
import type { ProvenanceRecord } from './provenance.ts';

/** What a base checkpoint's meta says about how it was made (bases from before provenance have only the pretraining fields). */
export interface BaseMeta {
  corpus?: string;
  corpusSequences?: number;
  seqLen?: number;
  steps?: number;
  seed?: number;
  finalLoss?: number;
  importedFrom?: unknown;
  /** The pretraining settings (csrm pretrain), model preset included. */
  pretrain?: Record<string, unknown>;
  /** The market it was pretrained on: its fingerprint (null for a market not made by the generator) and its data hash. */
  market?: { fingerprint: string | null; data: string };
  /** The tokenizer it was pretrained with: the path relative to the base's folder, and its hash. */
  tokenizer?: TokenizerRef;
  provenance?: ProvenanceRecord;
}

/** A base model's identity, read without its weights. */
export interface BaseInfo {
  path: string;
  /** The checkpoint's content hash. */
  digest: string;
  meta: BaseMeta;
  vocabSize: number;
  /** The tokenizer it was pretrained with, and that tokenizer's hash. */
  tokenizer: string;
  tokenizerHash: string;
}

export async function saveBase(path: string, m: Llama, meta: BaseMeta = {}): Promise<void> {
  await saveCheckpoint(path, { config: { ...m.config, lora: null }, tensors: namedTensors(m, 'base'), step: 0, meta });
}

/** A base model's digest, meta and tokenizer, without loading its weights. */
export async function readBase(path: string, tokenizer?: string | null): Promise<BaseInfo> {
  if (!existsSync(path)) throw new Error(`base model ${path} not found (run \`csrm pretrain\` or import safetensors)`);
  const c = await readCheckpointMeta(path);
  const meta = (c.meta ?? {}) as BaseMeta;
  const tok = recordedTokenizer(`base model ${path}`, path, meta.tokenizer, tokenizer);
  return { path, digest: c.digest, meta, vocabSize: (c.config as LlamaConfig).vocabSize, tokenizer: tok.path, tokenizerHash: tok.hash };
}

/** The base's tokenizer, loaded; its vocabulary must be the size of the model's embedding table. */
export async function loadBaseTokenizer(b: BaseInfo): Promise<Tokenizer> {
  const tok = await loadTokenizer(b.tokenizer);
  if (tok.vocabSize !== b.vocabSize) throw new Error(`tokenizer ${b.tokenizer} has ${tok.vocabSize} pieces, base model ${b.path} embeds ${b.vocabSize}: they were not made together`);
  return tok;
}

/** Loads a base model (no adapters), with its digest (the identity stage checkpoints record). */
export async function loadBase(path: string): Promise<{ model: Llama; meta: BaseMeta; digest: string; path: string }> {
  if (!existsSync(path)) throw new Error(`base model ${path} not found (run \`csrm pretrain\` or import safetensors)`);
  const c = await loadCheckpoint(path);
  const config = validateConfig(c.config as LlamaConfig);
  const model = initLlama({ ...config, lora: null }, 0);
  loadTensorsInto(namedTensors(model, 'base'), c.tensors);
  return { model, meta: (c.meta ?? {}) as BaseMeta, digest: await checkpointDigest(path), path };
}

/** How to make a stage's checkpoint again on a base, for refusals: `csrm sft` in the stage's run folder. */
export const retrainStage = (ckpt: string, base: string) => {
  const dir = dirname(ckpt);
  return `remove ${dir} and run \`csrm sft --run ${dirname(dir)} --name ${basename(dir)} --base ${base}\``;
};

/**
 * Loads what a stage trained on top of the base model: its LoRA adapters (added, shaped by the
 * checkpoint's LoRA config), or, for a stage trained without LoRA (`sft.adapter: "full"`), the whole
 * fine-tuned model's weights. The checkpoint must have been trained on this base (`base.digest`):
 * adapters on another base with the same shapes would load and give other predictions without a word.
 */
export async function loadAdapters(model: Llama, path: string, base: { digest: string; path: string }, rebuild = retrainStage(path, base.path)): Promise<void> {
  if (!existsSync(path)) throw new Error(`stage checkpoint ${path} not found (${rebuild})`);
  const c = await loadCheckpoint(path);
  const rec = (c.meta as { provenance?: ProvenanceRecord } | undefined)?.provenance;
  const trainedOn = rec?.hashes?.base;
  if (!trainedOn) throw new Error(`${path} has no record of the base model it was trained on (made before provenance was kept); refusing to load it onto ${base.path}. Retrain it: ${rebuild}`);
  if (trainedOn !== base.digest) {
    const where = rec?.paths?.base ? ` (${rec.paths.base})` : '';
    throw new Error(`${path} was trained on base model sha256 ${trainedOn.slice(0, 12)}…${where}, not on ${base.path} (sha256 ${base.digest.slice(0, 12)}…): `
      + `its predictions on this base would mean nothing. Use the base it was trained on${where ? ` (--base ${rec!.paths!.base})` : ''}, or retrain it on this one: ${rebuild}`);
  }
  const cfg = c.config as LlamaConfig;
  if (!cfg.lora) {
    if (model.config.lora) throw new Error(`${path}: a fully fine-tuned model cannot be loaded into a model that has LoRA adapters`);
    // a stage fine-tuned with the answer's own output rows (sft.labelHead)
    if (cfg.labelHead && !model.labelHead) untieLabels(model, cfg.labelHead);
    loadTensorsInto(namedTensors(model, 'base'), c.tensors);
    return;
  }
  addLora(model, cfg.lora, 0);
  loadTensorsInto(namedTensors(model, 'lora'), c.tensors);
}
