// The method's configuration (one JSON file per preset in pipeline/configs/), validated on load. Every
// knob of the relevance stages' fine-tuning is in the "sft" section and in SFT_KNOBS below: its
// meaning, its default and its check live there and nowhere else; the report prints them all.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CORPUS_RECIPES } from './pretrain-corpus.ts';
import type { RqaConfig } from './rqa-stage.ts';
import type { OnlineConfig } from '../online/config.ts';
import type { SftConfig } from '../train/sft.ts';

/**
 * The fine-tuning recipe of every relevance stage (Stage 1, Stage 2, self-distillation rounds), as
 * loaded: every knob present, defaults filled in. The training loop's own settings (SftConfig) are
 * derived from it per stage (sft-stage.ts: sftLoopConfig).
 */
export interface SftSettings extends Omit<SftConfig, 'warmup' | 'alpha'> {
  warmSteps: number;
  warmupMax: number;
  warmupShare: number;
  adapter: 'lora' | 'full';
  loraR: number | null;
  targetShare: number | null;
}

type Check = [test: (v: unknown) => boolean, need: string];
const posInt: Check = [(v) => Number.isInteger(v) && (v as number) > 0, 'must be a positive integer'];
const posNum: Check = [(v) => typeof v === 'number' && v > 0 && Number.isFinite(v), 'must be a number > 0'];
const nonNeg: Check = [(v) => typeof v === 'number' && v >= 0 && Number.isFinite(v), 'must be a number ≥ 0'];
const int: Check = [(v) => Number.isInteger(v), 'must be an integer'];
const share = (lo: '[' | '(', hi: ')' | ']'): Check => [
  (v) => typeof v === 'number' && (lo === '[' ? v >= 0 : v > 0) && (hi === ']' ? v <= 1 : v < 1),
  `outside ${lo}0, 1${hi}`,
];
const orNull = ([t, need]: Check): Check => [(v) => v === null || t(v), need];

interface Knob {
  what: string;
  /** Absent: the config must set it. A function: derived from the knobs already resolved. */
  default?: unknown | ((s: Partial<SftSettings>) => unknown);
  check: Check;
}

/** The "sft" section's knobs, in the order the report lists them. */
export const SFT_KNOBS: Record<keyof SftSettings, Knob> = {
  steps: { what: 'relevance batches of a stage trained from the base model (Stage 1)', check: posInt },
  warmSteps: { what: 'relevance batches of a stage that continues an earlier one (Stage 2, self-distillation rounds)', default: (s: Partial<SftSettings>) => s.steps, check: posInt },
  batchSize: { what: 'sequences per batch', check: posInt },
  lr: { what: 'peak learning rate (linear warm-up, then cosine decay to 10%)', check: posNum },
  warmupMax: { what: 'warm-up steps at most …', default: 50, check: [(v) => Number.isInteger(v) && (v as number) >= 0, 'must be an integer ≥ 0'] },
  warmupShare: { what: '… and at most this share of the stage\'s steps', default: 0.1, check: share('[', ']') },
  weightDecay: { what: 'AdamW weight decay (paper: 0.01)', default: 0.01, check: nonNeg },
  clip: { what: 'global gradient-norm clip', default: 1, check: posNum },
  lmWeight: { what: 'weight of the translation task\'s token loss (section 3.2: 0.1)', default: 0.1, check: nonNeg },
  mtRatio: { what: 'share of translation samples in a stage with the translation task', check: share('[', ')') },
  evalEvery: { what: 'steps between dev-set evaluations (the best dev micro-F1 checkpoint is the stage\'s model)', check: posInt },
  maxLen: { what: 'longest prompt in tokens', check: posInt },
  seed: { what: 'seed of sampling, dropout and fresh adapters', check: int },
  adapter: { what: '"lora": LoRA on q/k/v (the paper); "full": every weight trains (small decoders)', default: 'lora', check: [(v) => v === 'lora' || v === 'full', 'is not "lora" or "full"'] },
  loraR: { what: 'LoRA rank (null: the paper\'s rank-to-dim ratio, paperLora)', default: null, check: orNull(posInt) },
  targetShare: { what: 'Stage 2: share of target-market samples in the relevance stream, upsampled (null: natural share)', default: null, check: orNull(share('(', ')')) },
  groupBatches: { what: 'length-grouped batching: batches per length-sorted pool (1: drawn order)', default: 8, check: posInt },
};

/** A config file as written: the sft section's knobs with defaults may be left out. */
export interface MethodConfigFile extends Omit<MethodConfig, 'sft'> {
  sft: Partial<SftSettings>;
}

export interface MethodConfig {
  name: string;
  market: { preset: 'tiny' | 'demo' | 'paper'; seed: number };
  model: { preset: string };
  pretrain: {
    steps: number; batchSize: number; seqLen: number; lr: number; seed: number;
    /** Corpus recipe (pretrain-corpus.ts CORPUS_RECIPES); default PRETRAIN_CORPUS. */
    corpus?: string;
  };
  sft: SftSettings;
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

/** The sft section with every knob checked and the defaults filled in; `bad` throws with the reason. */
export function resolveSft(raw: Partial<SftSettings>, bad: (why: string) => never): SftSettings {
  if (typeof raw !== 'object' || raw === null) bad('"sft" is not an object');
  for (const k of Object.keys(raw)) if (!(k in SFT_KNOBS)) bad(`sft.${k} is not a knob (known: ${Object.keys(SFT_KNOBS).join(', ')})`);
  const s: Partial<SftSettings> = {};
  for (const [k, knob] of Object.entries(SFT_KNOBS) as [keyof SftSettings, Knob][]) {
    let v: unknown = raw[k];
    if (v === undefined) {
      if (!('default' in knob)) bad(`missing "sft.${k}" (${knob.what})`);
      v = typeof knob.default === 'function' ? (knob.default as (s: Partial<SftSettings>) => unknown)(s) : knob.default;
    }
    if (!knob.check[0](v)) bad(`sft.${k} ${JSON.stringify(v)} ${knob.check[1]}`);
    (s as Record<string, unknown>)[k] = v;
  }
  return s as SftSettings;
}

export function loadConfig(pathOrPreset: string): MethodConfig {
  const path = pathOrPreset.endsWith('.json') ? pathOrPreset : configPath(pathOrPreset);
  let c: MethodConfigFile;
  try {
    c = JSON.parse(readFileSync(path, 'utf8')) as MethodConfigFile;
  } catch (e) {
    throw new Error(`config ${path}: ${(e as Error).message}`);
  }
  const bad = (why: string): never => {
    throw new Error(`config ${path}: ${why}`);
  };
  for (const k of ['market', 'model', 'pretrain', 'sft', 'sd', 'figure3'] as const) if (!c[k]) bad(`missing "${k}"`);
  if (!(c.sd.alpha >= 0 && c.sd.alpha <= 1)) bad(`sd.alpha ${c.sd.alpha} outside [0, 1]`);
  if (c.pretrain.corpus !== undefined && !(c.pretrain.corpus in CORPUS_RECIPES)) bad(`pretrain.corpus "${c.pretrain.corpus}" is not one of ${Object.keys(CORPUS_RECIPES).join(', ')}`);
  for (const f of c.figure3.fractions) if (!(f > 0 && f < 1)) bad(`figure3 fraction ${f} outside (0, 1)`);
  return { ...c, sft: resolveSft(c.sft, bad) };
}
