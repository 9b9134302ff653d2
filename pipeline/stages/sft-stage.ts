// `csrm sft`: one fine-tuning setting of Table 2 (Stage 1 with or without the translation task and
// RQA, Stage 2, a self-distillation round), trained from the base model with fresh LoRA adapters on
// q/k/v (or every weight, `adapter: "full"`), or continued from an earlier stage's model (`init`);
// the best checkpoint is chosen on the dev set, then evaluated on the clean target test set.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed } from '../../engine/index.ts';
import { paperLora } from '../../models/llama-config.ts';
import { addLora, disposeLlama, trainableReport } from '../../models/llama.ts';
import type { RelevanceRecord } from '../data/schema.ts';
import { readJsonIf, writeJson } from '../io/files.ts';
import { loadTokenizer, type Tokenizer } from '../tokenizer/tokenizer.ts';
import type { RelevanceSeq, TranslationSeq } from '../train/batch.ts';
import { runSft, type SftConfig, type SftResult } from '../train/sft.ts';
import type { SftSettings } from './config.ts';
import { encodeRelevance, encodeTranslation, type Soft } from './encode.ts';
import { evaluateModel, type ModelEvaluation } from './evaluate.ts';
import { loadMarketData, sampleKey, type MarketData } from './market-data.ts';
import { loadAdapters, loadBase } from './model-io.ts';
import { readSoftLabels } from './label.ts';
import { rng } from '../../engine/random.ts';

export interface SftStageOpts {
  runDir: string;
  name: string; // e.g. stage1-sft, stage1-sft-mt, stage2, sd-1
  data: string;
  base: string;
  stage: 1 | 2;
  mt: boolean;
  rqa: string | null; // folder of records with the rqa field filled (csrm rqa), or null for none
  softLabels: string | null; // csrm label output for a self-distillation round
  /**
   * A finished stage of this run to continue from (its best checkpoint) instead of fresh adapters on
   * the base model: Stage 2 localises the Stage-1 model, and each self-distillation round continues
   * the previous round's model ("gradually optimized by several rounds of training", section 3.4).
   */
  init?: string | null;
  alpha: number; // eq. 2: 1 = hard labels only; paper 0.5 for self-distillation
  targetFraction: number; // share of the target market's training labels used in Stage 2 (Figure 3)
  /** The config's sft section: a stage from the base model trains `steps`, one that continues `init` trains `warmSteps`. */
  train: SftSettings;
  quiet?: boolean;
}

export interface SftStageResult {
  name: string;
  setting: string;
  trainingData: string;
  train: Omit<SftResult, 'history'> & {
    samples: number; // distinct training records
    streamItems: number; // relevance items drawn from (Stage 2's upsampled target records counted per copy)
    translationSamples: number; adapter: 'lora' | 'full'; init: string | null };
  trainable: { total: number; trainable: number; share: number };
  eval: ModelEvaluation;
  seconds: number;
}

/**
 * Stage 2's relevance stream with the target market's sparse labels drawn more often: each target
 * record is repeated so that they make up about `share` of the stream (at least their natural share).
 * Without it, 10% target labels are a tenth of every batch and the localisation barely moves in a
 * few hundred steps (measured in the demo); the source labels still make up the rest.
 */
export function upsampleTarget(recs: RelevanceRecord[], target: string, share: number | undefined): RelevanceRecord[] {
  const tgt = recs.filter((r) => r.market === target);
  const src = recs.length - tgt.length;
  if (share === undefined || tgt.length === 0 || src === 0) return recs;
  if (!(share > 0 && share < 1)) throw new Error(`targetShare ${share} outside (0, 1)`);
  const copies = Math.max(1, Math.round((share * src) / ((1 - share) * tgt.length)));
  return [...recs.filter((r) => r.market !== target), ...Array.from({ length: copies }, () => tgt).flat()];
}

/**
 * Optimisation steps of a stage. The config's steps are relevance batches' worth; the translation
 * task (section 3.2) comes on top of them: a setting with MT takes steps / (1 − mtRatio), so that it
 * sees as many relevance samples as the same setting without MT (at mtRatio 0.25, MT would otherwise
 * silently cost a quarter of the relevance training, and Table 2's SFT vs SFT+MT would measure that).
 */
export function stageSteps(steps: number, mt: boolean, mtRatio: number): number {
  return mt && mtRatio > 0 ? Math.round(steps / (1 - mtRatio)) : steps;
}

/**
 * The training loop's settings for one stage: its steps (stageSteps of `steps` or, continuing an
 * earlier stage, of `warmSteps`), the warm-up, and the soft-label weight α of eq. 2 (1 without soft labels).
 */
export function sftLoopConfig(s: SftSettings, o: { init: boolean; mt: boolean; alpha: number }): SftConfig {
  const steps = stageSteps(o.init ? s.warmSteps : s.steps, o.mt, s.mtRatio);
  return {
    steps, batchSize: s.batchSize, lr: s.lr, warmup: Math.min(s.warmupMax, Math.floor(steps * s.warmupShare)),
    weightDecay: s.weightDecay, clip: s.clip, alpha: o.alpha, mtRatio: o.mt ? s.mtRatio : 0, lmWeight: s.lmWeight,
    evalEvery: s.evalEvery, maxLen: s.maxLen, seed: s.seed, groupBatches: s.groupBatches,
  };
}

/** The shuffle that picks Stage 2's share of target labels (Figure 3's fractions): its own stream of the SFT seed. */
const targetSubsetSeed = (seed: number) => seed ^ 0x5eed;

/** Training records of a stage: Stage 1 = source labels only; Stage 2 = source + (a share of) target labels. */
export function stageTrainRecords(d: MarketData, stage: 1 | 2, targetFraction: number, seed: number): RelevanceRecord[] {
  const src = d.relevance[d.source]!.train;
  if (stage === 1) return src;
  const tgt = [...d.relevance[d.target]!.train];
  const r = rng(targetSubsetSeed(seed));
  for (let i = tgt.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [tgt[i], tgt[j]] = [tgt[j]!, tgt[i]!];
  }
  return [...src, ...tgt.slice(0, Math.round(tgt.length * targetFraction))];
}

/** Dev records for checkpoint selection: Stage 1 has no target labels, so it selects on the source dev set. */
export function stageDevRecords(d: MarketData, stage: 1 | 2): RelevanceRecord[] {
  return stage === 1 ? d.relevance[d.source]!.dev : [...d.relevance[d.source]!.dev, ...d.relevance[d.target]!.dev];
}

export async function withRqa(records: RelevanceRecord[], rqaDir: string | null): Promise<RelevanceRecord[]> {
  if (!rqaDir) return records.map((r) => ({ ...r, rqa: [] }));
  const { loadRqaIndex } = await import('./rqa-index.ts');
  const idx = await loadRqaIndex(rqaDir);
  return records.map((r) => ({ ...r, rqa: idx.get(sampleKey(r)) ?? [] }));
}

export function encodeAll(tok: Tokenizer, recs: RelevanceRecord[], maxLen: number, soft: Map<string, Soft> | null): RelevanceSeq[] {
  return recs.map((r) => {
    const s = soft ? soft.get(sampleKey(r)) : null;
    if (soft && !s) throw new Error(`soft labels lack sample ${sampleKey(r)}`);
    return encodeRelevance(tok, r, maxLen, s ?? null);
  });
}

export async function runSftStage(o: SftStageOpts): Promise<SftStageResult> {
  const t0 = performance.now();
  manualSeed(o.train.seed);
  const dir = join(o.runDir, o.name);
  mkdirSync(dir, { recursive: true });
  const done = readJsonIf<SftStageResult>(join(dir, 'result.json'));
  if (done) {
    if (!o.quiet) console.error(`${o.name}: already done (delete ${dir}/result.json to rerun)`);
    return done;
  }
  const tok = await loadTokenizer();
  const data = await loadMarketData(o.data);
  const soft = o.softLabels ? await readSoftLabels(o.softLabels) : null;
  const stageRecs = stageTrainRecords(data, o.stage, o.targetFraction, o.train.seed);
  const trainRecs = await withRqa(o.stage === 2 ? upsampleTarget(stageRecs, data.target, o.train.targetShare ?? undefined) : stageRecs, o.rqa);
  const devRecs = await withRqa(stageDevRecords(data, o.stage), o.rqa);
  const relevance = encodeAll(tok, trainRecs, o.train.maxLen, soft);
  const dev = encodeAll(tok, devRecs, o.train.maxLen, null);
  let translation: TranslationSeq[] = [];
  if (o.mt) {
    const enc = data.translations.map((t) => encodeTranslation(tok, t, o.train.maxLen));
    translation = enc.filter((x): x is TranslationSeq => x !== null);
    const skipped = enc.length - translation.length;
    if (skipped > 0 && !o.quiet) console.error(`${o.name}: ${skipped} translation pairs longer than ${o.train.maxLen} tokens skipped`);
  }
  const { model } = await loadBase(o.base);
  if (o.init) {
    const from = join(o.runDir, o.init, 'best.ckpt');
    if (!existsSync(from)) throw new Error(`${o.name}: stage "${o.init}" to continue from has no ${from} (run it first)`);
    await loadAdapters(model, from);
  } else if (o.train.adapter === 'lora') {
    const lora = paperLora(model.config.dim);
    if (o.train.loraR !== null) Object.assign(lora, { r: o.train.loraR, alpha: 2 * o.train.loraR });
    addLora(model, lora, o.train.seed);
  }
  const cfg = sftLoopConfig(o.train, { init: !!o.init, mt: o.mt, alpha: soft ? o.alpha : 1 });
  const res = await runSft({ model, labelIds: tok.labelTokenIds, padId: tok.pad, relevance, translation, dev, cfg, dir, label: o.name, quiet: o.quiet });
  // the best dev checkpoint is the stage's model
  const best = join(dir, 'best.ckpt');
  const { model: evalModel } = await loadBase(o.base);
  await loadAdapters(evalModel, existsSync(best) ? best : join(dir, 'last.ckpt'));
  const ev = await evaluateModel(evalModel, data, tok, o.train.maxLen, o.rqa);
  const result: SftStageResult = {
    name: o.name,
    setting: ['SFT', o.mt ? 'MT' : '', o.rqa ? 'RQA' : '', soft ? `SD(α=${o.alpha})` : ''].filter(Boolean).join('+'),
    trainingData: o.stage === 1 ? data.source : `${data.source}+${data.target}${o.targetFraction < 1 ? ` (${Math.round(o.targetFraction * 100)}% of ${data.target})` : ''}`,
    train: { bestStep: res.bestStep, bestDevF1: res.bestDevF1, tokensPerSec: res.tokensPerSec, seconds: res.seconds, samples: stageRecs.length, streamItems: relevance.length, translationSamples: translation.length, adapter: model.config.lora ? 'lora' : 'full', init: o.init ?? null },
    trainable: trainableReport(model),
    eval: ev,
    seconds: (performance.now() - t0) / 1000,
  };
  writeJson(join(dir, 'history.json'), res.history);
  writeJson(join(dir, 'result.json'), result);
  disposeLlama(model);
  disposeLlama(evalModel);
  return result;
}
