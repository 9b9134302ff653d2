// The method's configuration (one JSON file per preset in pipeline/configs/), validated on load by one
// table of sections and knobs (CONFIG_SPEC, checked by config-knobs.ts): every knob's meaning, its
// default and its check live here and nowhere else, for the whole file — market, model, tokenizer,
// pretraining, the relevance stages' fine-tuning ("sft", SFT_KNOBS, which the report prints), self-
// distillation, Figure 3, RQA and the online stage. The command line's flags go through the same
// checks (flagKnob). Errors name the file and the key path.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADAMW_DEFAULTS } from '../../engine/index.ts';
import { PRESETS as MODEL_PRESETS } from '../../models/llama-config.ts';
import { PRECISIONS, type Precision } from '../../models/mixed-precision.ts';
import { PRESET_SIZES, PRESETS as MARKET_PRESETS, type PresetName } from '../data/market/presets.ts';
import { ONLINE_SECTION, type OnlineConfig } from '../online/config.ts';
import { CORPUS_RECIPES } from './pretrain-corpus.ts';
import type { RqaConfig } from './rqa-stage.ts';
import type { SftConfig } from '../train/sft.ts';
import {
  int, knobAt, knobError, listOf, nonNeg, nonNegInt, oneOf, orNull, posInt, posNum, resolveSection, share, text,
  type Check, type Knob, type Section,
} from './config-knobs.ts';

/**
 * The fine-tuning recipe of every relevance stage (Stage 1, Stage 2, self-distillation rounds), as
 * loaded: every knob present, defaults filled in. The training loop's own settings (SftConfig) are
 * derived from it per stage (sft-stage.ts: sftLoopConfig).
 */
export interface SftSettings extends Omit<SftConfig, 'warmup' | 'alpha' | 'precision' | 'lrHold' | 'ema' | 'decayOn' | 'labelSmoothing' | 'dropout' | 'beta2'> {
  precision: Precision;
  decayOn: 'all' | 'matrices';
  labelHead: boolean;
  lrHold: number;
  emaHorizon: number | null;
  warmEmaHorizon: number | null;
  labelSmoothing: number;
  warmLabelSmoothing: number | null;
  dropout: number;
  warmDropout: number | null;
  beta2: number;
  warmSteps: number;
  warmLr: number | null;
  warmupMax: number;
  warmupShare: number;
  adapter: 'lora' | 'full';
  loraR: number | null;
  targetShare: number | null;
  codeSwitch: number;
  translatedTwins: boolean;
  twinsSide: 'source' | 'target';
  twinsWithTranslation: boolean;
  freezeEmbeddings: boolean;
  rqaContinues: boolean;
}

/** The "sft" section's knobs, in the order the report lists them. */
export const SFT_KNOBS: Record<keyof SftSettings, Knob> = {
  steps: { what: 'relevance batches of a stage trained from the base model (Stage 1)', check: posInt },
  warmSteps: { what: 'relevance batches of a stage that continues an earlier one (Stage 2, self-distillation rounds, and SFT+MT+RQA with rqaContinues)', default: (s: Record<string, unknown>) => s.steps, check: posInt },
  batchSize: { what: 'sequences per batch', check: posInt },
  lr: { what: 'peak learning rate (linear warm-up, the peak held for lrHold, then cosine decay to 10%)', check: posNum },
  warmLr: { what: 'peak learning rate of a stage that continues an earlier one (null: lr)', default: null, check: orNull(posNum) },
  lrHold: { what: 'share of the steps after the warm-up at the peak learning rate before the decay', default: 0, check: share('[', ')') },
  emaHorizon: { what: 'weight averaging: dev evaluations score, and each stage keeps, a moving average of the weights whose horizon is this share of the stage\'s steps (decay 1 − 1/(share·steps); null: the weights themselves)', default: null, check: orNull(share('(', ']')) },
  warmEmaHorizon: { what: 'weight averaging of a stage that continues an earlier one (Stage 2, self-distillation rounds): the horizon as a share of its steps (null: emaHorizon). A continuing stage starts from a fitted model and fits a thousand target labels in a few hundred steps: its dev F1 then wanders between evaluations, and the average holds the plateau', default: null, check: orNull(share('(', ']')) },
  labelSmoothing: { what: 'label smoothing ε of the human label in eq. 2: the one-hot target becomes (1 − ε)·onehot + ε/3 (label-smoothing.ts; 0: none, the paper\'s recipe)', default: 0, check: share('[', ')') },
  warmLabelSmoothing: { what: 'label smoothing of a stage that continues an earlier one (Stage 2, self-distillation rounds; null: labelSmoothing)', default: null, check: orNull(share('[', ')')) },
  dropout: { what: 'residual dropout: in training, each attention and MLP block\'s output is dropped with this probability before its residual add (models/llama.ts; 0: none)', default: 0, check: share('[', ')') },
  warmDropout: { what: 'residual dropout of a stage that continues an earlier one (Stage 2, self-distillation rounds; null: dropout). Such a stage fits its thousand target labels in a few hundred steps', default: null, check: orNull(share('[', ')')) },
  warmupMax: { what: 'warm-up steps at most …', default: 50, check: nonNegInt },
  warmupShare: { what: '… and at most this share of the stage\'s steps', default: 0.1, check: share('[', ']') },
  weightDecay: { what: 'AdamW weight decay (paper: 0.01)', default: 0.01, check: nonNeg },
  decayOn: { what: '"all": every trained tensor decays; "matrices": the token tables and norm gains do not (a one-market stream leaves the other market\'s token rows without gradient, and decay alone would fade them)', default: 'all', check: oneOf(['all', 'matrices'] as const) },
  clip: { what: 'global gradient-norm clip', default: 1, check: posNum },
  beta2: { what: 'AdamW\'s β2, the decay of the squared-gradient average (0.999: the optimizer\'s default; LLM recipes often use 0.95, which lets the step size follow a falling gradient norm sooner)', default: ADAMW_DEFAULTS.beta2, check: share('(', ')') },
  lmWeight: { what: 'weight of the translation task\'s token loss (section 3.2: 0.1)', default: 0.1, check: nonNeg },
  mtRatio: { what: 'share of translation samples in a stage with the translation task', check: share('[', ')') },
  evalEvery: { what: 'steps between dev-set evaluations (the best dev micro-F1 checkpoint is the stage\'s model)', check: posInt },
  maxLen: { what: 'longest prompt in tokens', check: posInt },
  seed: { what: 'seed of sampling, dropout and fresh adapters', check: int },
  labelHead: { what: 'full fine-tuning gives the answer its own output rows, a copy of the LM head\'s rows of the label tokens (they are digits: tied, every label gradient also moves the digits the prompts read in sizes and counts)', default: false, check: oneOf([false, true]) },
  adapter: { what: '"lora": LoRA on q/k/v (the paper); "full": every weight trains (small decoders)', default: 'lora', check: [(v) => v === 'lora' || v === 'full', 'is not "lora" or "full"'] },
  loraR: { what: 'LoRA rank (null: the paper\'s rank-to-dim ratio, paperLora)', default: null, check: orNull(posInt) },
  targetShare: { what: 'Stage 2: share of target-market samples in the relevance stream, upsampled (null: natural share)', default: null, check: orNull(share('(', ')')) },
  codeSwitch: { what: 'share of the source market\'s relevance samples code-switched: each brand or category name in them swapped for its curated translation with probability 0.5 (code-switch.ts; 0: none, the paper\'s recipe)', default: 0, check: share('[', ']') },
  translatedTwins: { what: 'Stage 2 and the rounds continuing it also learn the source training samples said in the target language with the market\'s curated data: the query\'s human translation and the same product\'s target listing, label kept (translated-twins.ts; which side of targetShare they count on: twinsSide; pairs the target market judged are left out)', default: false, check: oneOf([false, true]) },
  twinsSide: { what: 'which side of targetShare the translated twins count on: "source" (the source labels they are, once each; the target market\'s own labels alone are upsampled to targetShare) or "target" (with the target\'s labels, in the target language: both upsampled together, so the few target labels repeat less and the twins come more often)', default: 'source', check: oneOf(['source', 'target'] as const) },
  twinsWithTranslation: { what: 'Stage 1\'s runs with the translation task (SFT+MT, and SFT+MT+RQA) also learn the translated twins: the curated translations the task trains on, said as relevance samples with the source label (no target label is used, so the Stage-1 model stays zero-shot on the target market; pairs the target market judged are left out)', default: false, check: oneOf([false, true]) },
  freezeEmbeddings: { what: 'full fine-tuning from the base model (Stage 1\'s runs) keeps the token embedding table, and with it the tied LM head, as the base has it: the target market\'s words keep the places the bilingual pretraining gave them (stages that continue an earlier one train it)', default: false, check: oneOf([false, true]) },
  rqaContinues: { what: 'Stage 1\'s SFT+MT+RQA run continues the SFT+MT model for warmSteps with retrieved titles in its prompts, instead of training from the base model for steps (false: the paper\'s three Stage-1 runs from the base). A sixth of the cost; its difference from SFT+MT then includes those steps, and the report says so', default: false, check: oneOf([false, true]) },
  groupBatches: { what: 'length-grouped batching: batches per length-sorted pool (1: drawn order)', default: 8, check: posInt },
  precision: { what: '"f32", or "mixed-f16": f16 products with f32 master weights and dynamic loss scaling (models/mixed-precision.ts)', default: 'f32', check: oneOf(PRECISIONS) },
};

/**
 * The sft section as a stage records it (provenance): without `precision` when it is the default
 * f32, without `lrHold`, `labelSmoothing` and `dropout` when they are 0, without `beta2` when it is 0.999, without `warmLr`, `emaHorizon`, `warmEmaHorizon`, `warmLabelSmoothing` and `warmDropout` when they are null, without
 * `decayOn` when it is "all", without `labelHead` when it is false, without `codeSwitch` when it is 0, without `twinsSide` when it is "source", without `translatedTwins`, `twinsWithTranslation`, `freezeEmbeddings` and `rqaContinues` when they are false, so the records and settings
 * hashes of runs made before those knobs existed stay valid.
 */
export function recordedSft(s: SftSettings): Omit<SftSettings, 'precision' | 'lrHold' | 'warmLr' | 'emaHorizon' | 'warmEmaHorizon' | 'labelSmoothing' | 'warmLabelSmoothing' | 'dropout' | 'warmDropout' | 'beta2' | 'decayOn' | 'labelHead' | 'codeSwitch' | 'translatedTwins' | 'twinsSide' | 'twinsWithTranslation' | 'freezeEmbeddings' | 'rqaContinues'> & { precision?: Precision; beta2?: number; lrHold?: number; warmLr?: number; emaHorizon?: number; warmEmaHorizon?: number; labelSmoothing?: number; warmLabelSmoothing?: number; dropout?: number; warmDropout?: number; decayOn?: 'matrices'; labelHead?: true; codeSwitch?: number; translatedTwins?: true; twinsSide?: 'target'; twinsWithTranslation?: true; freezeEmbeddings?: true; rqaContinues?: true } {
  const { precision, lrHold, warmLr, emaHorizon, warmEmaHorizon, labelSmoothing, warmLabelSmoothing, dropout, warmDropout, beta2, decayOn, labelHead, codeSwitch, translatedTwins, twinsSide, twinsWithTranslation, freezeEmbeddings, rqaContinues, ...rest } = s;
  return { ...rest, ...(labelSmoothing > 0 ? { labelSmoothing } : {}), ...(warmLabelSmoothing !== null ? { warmLabelSmoothing } : {}), ...(dropout > 0 ? { dropout } : {}), ...(warmDropout !== null ? { warmDropout } : {}), ...(beta2 !== ADAMW_DEFAULTS.beta2 ? { beta2 } : {}), ...(precision !== 'f32' ? { precision } : {}), ...(lrHold > 0 ? { lrHold } : {}), ...(warmLr !== null ? { warmLr } : {}), ...(emaHorizon !== null ? { emaHorizon } : {}), ...(warmEmaHorizon !== null ? { warmEmaHorizon } : {}), ...(decayOn !== 'all' ? { decayOn } : {}), ...(labelHead ? { labelHead: true as const } : {}), ...(codeSwitch > 0 ? { codeSwitch } : {}), ...(translatedTwins ? { translatedTwins: true as const } : {}), ...(twinsSide !== 'source' ? { twinsSide } : {}), ...(twinsWithTranslation ? { twinsWithTranslation: true as const } : {}), ...(freezeEmbeddings ? { freezeEmbeddings: true as const } : {}), ...(rqaContinues ? { rqaContinues: true as const } : {}) };
}

const file: Check = [(v) => typeof v === 'string' && existsSync(v) && statSync(v).isFile(), 'is not a file'];

/** The optional "rqa" section: what it leaves out takes RQA_DEFAULTS (rqa-stage.ts: rqaConfig). */
const RQA_SECTION: Section = {
  what: 'retrieval-based query augmentation (csrm rqa)', optional: true,
  knobs: {
    k: { what: 'titles per record (Table 1\'s RQA feature)', optional: true, check: posInt },
    pseudoK: { what: 'BM25 pseudo pairs per target query', optional: true, check: posInt },
    accuracyK: { what: 'the k of any-of-top-k retrieval accuracy (section 5.2)', optional: true, check: posInt },
    ranker: {
      what: 'the conversion ranker', optional: true,
      knobs: {
        steps: { what: 'training steps', optional: true, check: posInt },
        batchSize: { what: 'sequences per batch', optional: true, check: posInt },
        lr: { what: 'peak learning rate', optional: true, check: posNum },
        negativesPerPositive: { what: 'not-bought pairs kept per bought pair', optional: true, check: posNum },
      },
    },
    ebr: {
      what: 'the EBR bi-encoder distilled with eq. 1', optional: true,
      knobs: {
        steps: { what: 'training steps', optional: true, check: posInt },
        batchSize: { what: 'pairs per batch', optional: true, check: posInt },
        negatives: { what: 'in-batch negatives', optional: true, check: posInt },
        dim: { what: 'embedding dimension', optional: true, check: posInt },
        lr: { what: 'learning rate', optional: true, check: posNum },
        temperature: { what: 'softmax temperature of eq. 1', optional: true, check: posNum },
        mseWeight: { what: 'weight of the CVR regression term', optional: true, check: nonNeg },
      },
    },
    seed: { what: 'seed of the ranker and the EBR', optional: true, check: int },
  },
};

/** The whole config file: every section, every knob. */
export const CONFIG_SPEC: Section = {
  what: 'the method\'s config',
  knobs: {
    name: { what: 'the run\'s name (runs/<name>, pipeline/base/<name>-<model>.ckpt)', check: text },
    market: {
      what: 'the synthetic market the method runs on',
      knobs: {
        preset: { what: 'market size (tiny, demo, paper)', check: oneOf(MARKET_PRESETS) },
        seed: { what: 'the generator\'s seed', check: int },
        // larger test sets narrow the report's paired intervals; scoring them costs inference time in every stage
        dev: { what: 'dev samples per market (default: the preset\'s)', default: (m: Record<string, unknown>) => PRESET_SIZES[m.preset as PresetName].dev, check: posInt },
        test: { what: 'test samples per market (default: the preset\'s)', default: (m: Record<string, unknown>) => PRESET_SIZES[m.preset as PresetName].test, check: posInt },
        lexicon: { what: 'the lexicon file (csrm-lexicon/2; a path relative to the config file); null: pipeline/data/lexicon/kr-tw.json', default: null, check: orNull(file) },
      },
    },
    model: { what: 'the decoder', knobs: { preset: { what: 'model size (models/llama-config.ts PRESETS)', check: oneOf(Object.keys(MODEL_PRESETS)) } } },
    tokenizer: { what: 'sentencepiece model (a path relative to the config file); null: the committed one when it fits the market, else one trained for it (csrm tokenizer)', default: null, check: orNull(file) },
    pretrain: {
      what: 'pretraining of the base model (csrm pretrain)',
      knobs: {
        steps: { what: 'training steps', check: posInt },
        batchSize: { what: 'sequences per batch', check: posInt },
        seqLen: { what: 'tokens per sequence', check: posInt },
        lr: { what: 'peak learning rate', check: posNum },
        seed: { what: 'seed of the initial weights and the corpus', check: int },
        corpus: { what: 'corpus recipe (pretrain-corpus.ts CORPUS_RECIPES); absent: PRETRAIN_CORPUS', optional: true, check: oneOf(Object.keys(CORPUS_RECIPES)) },
      },
    },
    sft: { what: 'the relevance stages\' fine-tuning', knobs: SFT_KNOBS as unknown as Record<string, Knob> },
    sd: {
      what: 'self-distillation (section 3.4)',
      knobs: {
        rounds: { what: 'rounds after Stage 2', check: nonNegInt },
        alpha: { what: 'α of eq. 2: weight of the human label against the soft label (< 1 when soft labels are used)', check: share('[', ']') },
      },
    },
    figure3: { what: 'Figure 3\'s sweep', knobs: { fractions: { what: 'shares of the target market\'s labels', check: listOf(share('(', ')')) } } },
    rqa: RQA_SECTION,
    online: ONLINE_SECTION,
  },
};

/** What a flag of `csrm sft` / `csrm label` sets, checked as a knob (its value in words on failure). */
export const FLAG_KNOBS: Record<string, Knob> = {
  stage: { what: 'the paper\'s stage', check: oneOf([1, 2]) },
  alpha: { what: 'α of eq. 2', check: share('[', ']') },
  'target-fraction': { what: 'share of the target market\'s training labels', check: share('(', ']') },
  steps: { what: 'training steps', check: posInt },
};

/** The knob a flag is checked by: one of FLAG_KNOBS, or a config key path ("pretrain.steps"). */
export function flagKnob(flagOrPath: string): Knob {
  return FLAG_KNOBS[flagOrPath] ?? knobAt(CONFIG_SPEC, flagOrPath);
}

/** Throws `<who>: --<flag> <value> <reason>` unless `v` passes the knob's check. */
export function checkFlag(who: string, flag: string, v: unknown, knob: Knob = flagKnob(flag)): void {
  if (!knob.check[0](v)) throw new Error(`${who}: ${knobError(`--${flag}`, v, knob.check)}`);
}

/**
 * The market: generator preset and seed, the dev and test samples per market (the preset's sizes
 * when the file leaves them out), and the lexicon (an absolute path; null: the default lexicon).
 */
export interface MarketSettings {
  preset: PresetName;
  seed: number;
  dev: number;
  test: number;
  lexicon: string | null;
}

/** A config file as written: knobs with defaults may be left out. */
export type MethodConfigFile = Omit<MethodConfig, 'sft' | 'market' | 'tokenizer'> & {
  sft: Partial<SftSettings>;
  market: Pick<MarketSettings, 'preset' | 'seed'> & Partial<Omit<MarketSettings, 'preset' | 'seed'>>;
  tokenizer?: string | null;
};

export interface MethodConfig {
  name: string;
  market: MarketSettings;
  model: { preset: string };
  /** The sentencepiece model (absolute path), or null: the committed one when it fits the market. */
  tokenizer: string | null;
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
  return resolveSection(raw, CONFIG_SPEC.knobs.sft as Section, 'sft', bad) as unknown as SftSettings;
}

/** Path-valued knobs are relative to the config file's folder. */
function absolutePaths(c: Record<string, unknown>, dir: string): void {
  const abs = (v: unknown) => (typeof v === 'string' && v !== '' ? resolve(dir, v) : v);
  const market = c.market as Record<string, unknown> | undefined;
  if (market && typeof market === 'object' && market.lexicon !== undefined) market.lexicon = abs(market.lexicon);
  if (c.tokenizer !== undefined) c.tokenizer = abs(c.tokenizer);
}

/**
 * A config by preset name or file, every section checked and defaults filled in. `overrides` (from
 * flags: `--lexicon`, `--tokenizer`, already absolute) replace knobs before the check.
 */
export function loadConfig(pathOrPreset: string, overrides: { lexicon?: string; tokenizer?: string } = {}): MethodConfig {
  const path = pathOrPreset.endsWith('.json') ? pathOrPreset : configPath(pathOrPreset);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`config ${path}: ${(e as Error).message}`);
  }
  const bad = (why: string): never => {
    throw new Error(`config ${path}: ${why}`);
  };
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    absolutePaths(raw, dirname(resolve(path)));
    if (overrides.lexicon !== undefined && typeof raw.market === 'object' && raw.market) (raw.market as Record<string, unknown>).lexicon = overrides.lexicon;
    if (overrides.tokenizer !== undefined) raw.tokenizer = overrides.tokenizer;
  }
  const c = resolveSection(raw, CONFIG_SPEC, '', bad) as unknown as MethodConfig;
  // α = 1 gives the soft labels no weight in eq. 2: a self-distillation round would silently be plain training
  const softStages = c.sd.rounds > 0 || c.figure3.fractions.length > 0;
  if (softStages && c.sd.alpha >= 1) bad(`sd.alpha ${c.sd.alpha}: self-distillation needs α < 1 (at α = 1 eq. 2 ignores the soft labels)`);
  // LoRA freezes the base: a label head copied from it would never train
  if (c.sft.labelHead && c.sft.adapter === 'lora') bad('sft.labelHead true with sft.adapter "lora": LoRA keeps the base frozen, a label head with it; labelHead is for "full" fine-tuning');
  return c;
}
