// The method's configuration (one JSON file per preset in pipeline/configs/), validated on load.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CORPUS_RECIPES } from './pretrain-corpus.ts';
import type { RqaConfig } from './rqa-stage.ts';
import type { OnlineConfig } from '../online/config.ts';

export interface MethodConfig {
  name: string;
  market: { preset: 'tiny' | 'demo' | 'paper'; seed: number };
  model: { preset: string };
  pretrain: {
    steps: number; batchSize: number; seqLen: number; lr: number; seed: number;
    /** Corpus recipe (pretrain-corpus.ts CORPUS_RECIPES); default PRETRAIN_CORPUS. */
    corpus?: string;
  };
  sft: {
    steps: number; batchSize: number; lr: number; evalEvery: number; maxLen: number; seed: number; mtRatio: number; loraR?: number;
    /** LoRA on q/k/v (default, the paper) or full fine-tuning (small decoders; see sft-stage.ts). */
    adapter?: 'lora' | 'full';
    /** Steps of the stages that continue an earlier stage's model (Stage 2, SD rounds); default `steps`. */
    warmSteps?: number;
    /** Stage 2: share of target-market samples in the relevance stream (upsampled); natural when absent. */
    targetShare?: number;
    /** Length-grouped batching: batches per length-sorted pool (1 = drawn order; default 8). */
    groupBatches?: number;
  };
  sd: { rounds: number; alpha: number };
  figure3: { fractions: number[] };
  /** Retrieval-based query augmentation (csrm rqa); absent → RQA_DEFAULTS. */
  rqa?: Partial<RqaConfig>;
  /** Online twin-tower distillation (pipeline/online/config.ts); optional, defaults per market preset. */
  online?: Partial<OnlineConfig>;
}

export function configPath(preset: string): string {
  return fileURLToPath(new URL(`../configs/${preset}.json`, import.meta.url));
}

export function loadConfig(pathOrPreset: string): MethodConfig {
  const path = pathOrPreset.endsWith('.json') ? pathOrPreset : configPath(pathOrPreset);
  let c: MethodConfig;
  try {
    c = JSON.parse(readFileSync(path, 'utf8')) as MethodConfig;
  } catch (e) {
    throw new Error(`config ${path}: ${(e as Error).message}`);
  }
  const bad = (why: string) => {
    throw new Error(`config ${path}: ${why}`);
  };
  for (const k of ['market', 'model', 'pretrain', 'sft', 'sd', 'figure3'] as const) if (!c[k]) bad(`missing "${k}"`);
  if (!(c.sd.alpha >= 0 && c.sd.alpha <= 1)) bad(`sd.alpha ${c.sd.alpha} outside [0, 1]`);
  if (!(c.sft.mtRatio >= 0 && c.sft.mtRatio < 1)) bad(`sft.mtRatio ${c.sft.mtRatio} outside [0, 1)`);
  if (c.sft.adapter !== undefined && c.sft.adapter !== 'lora' && c.sft.adapter !== 'full') bad(`sft.adapter "${c.sft.adapter}" is not "lora" or "full"`);
  if (c.sft.warmSteps !== undefined && !(Number.isInteger(c.sft.warmSteps) && c.sft.warmSteps > 0)) bad(`sft.warmSteps ${c.sft.warmSteps} must be a positive integer`);
  if (c.sft.targetShare !== undefined && !(c.sft.targetShare > 0 && c.sft.targetShare < 1)) bad(`sft.targetShare ${c.sft.targetShare} outside (0, 1)`);
  if (c.pretrain.corpus !== undefined && !(c.pretrain.corpus in CORPUS_RECIPES)) bad(`pretrain.corpus "${c.pretrain.corpus}" is not one of ${Object.keys(CORPUS_RECIPES).join(', ')}`);
  if (c.sft.groupBatches !== undefined && !(Number.isInteger(c.sft.groupBatches) && c.sft.groupBatches >= 1)) bad(`sft.groupBatches ${c.sft.groupBatches} must be an integer ≥ 1`);
  for (const f of c.figure3.fractions) if (!(f > 0 && f < 1)) bad(`figure3 fraction ${f} outside (0, 1)`);
  return c;
}
