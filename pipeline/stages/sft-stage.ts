// `csrm sft`: one fine-tuning setting of Table 2 (Stage 1 with or without the translation task and
// RQA, Stage 2, a self-distillation round), trained from the base model with fresh LoRA adapters on
// q/k/v (or every weight, `adapter: "full"`), or continued from an earlier stage's model (`init`);
// the best checkpoint is chosen on the dev set, then evaluated on the clean target test set.
import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ADAMW_DEFAULTS, checkpointDigest, manualSeed, readCheckpointMeta } from '../../engine/index.ts';
import { paperLora } from '../../models/llama-config.ts';
import { addLora, disposeLlama, trainableReport, untieLabels } from '../../models/llama.ts';
import type { RelevanceRecord } from '../data/schema.ts';
import { readJsonIf, writeJson } from '../io/files.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import type { RelevanceSeq, TranslationSeq } from '../train/batch.ts';
import { runSft, type SftConfig, type SftResult } from '../train/sft.ts';
import { recordedSft, type SftSettings } from './config.ts';
import { codeSwitchSource } from './code-switch.ts';
import { isTwin, translatedTwins } from './translated-twins.ts';
import { encodeRelevance, encodeTranslation, type Soft } from './encode.ts';
import { evaluateModel, type ModelEvaluation } from './evaluate.ts';
import { loadMarketData, sampleKey, type MarketData } from './market-data.ts';
import { loadAdapters, loadBase, loadBaseTokenizer, readBase, type BaseInfo } from './model-io.ts';
import { readSoftLabelsFrom } from './label.ts';
import { checkProvenance, fileSha256, marketDataHash, NONE, provenance, type ProvenanceRecord } from './provenance.ts';
import { checkRqaSource } from './rqa-index.ts';
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
  /** The stage of this run whose best checkpoint must have written the soft labels (the table's softLabelsFrom). */
  softLabelsFrom?: string | null;
  /** The base's tokenizer given explicitly (it must be the one the base records). */
  tokenizer?: string | null;
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
  /** What the stage was made from (provenance.ts); a rerun reuses the result only when it is the same. */
  provenance: ProvenanceRecord;
  /** The content hash of the stage's model (best.ckpt, or last.ckpt without a dev set). */
  model: string;
}

/**
 * Stage 2's relevance stream with the target market's sparse labels drawn more often: each target
 * record is repeated so that they make up about `share` of the stream (at least their natural share).
 * Without it, 10% target labels are a tenth of every batch and the localisation barely moves in a
 * few hundred steps (measured in the demo); the source labels still make up the rest. Translated
 * twins (translated-twins.ts) are said in the target language but are source labels: with
 * `twinsSide` "source" they stay on the source side, once each; with "target" they count with the
 * target's labels and are repeated with them (sft.twinsSide).
 */
export function upsampleTarget(recs: RelevanceRecord[], target: string, share: number | undefined, twinsSide: 'source' | 'target' = 'source'): RelevanceRecord[] {
  const isLabel = (r: RelevanceRecord) => r.market === target && (twinsSide === 'target' || !isTwin(r));
  const tgt = recs.filter(isLabel);
  const src = recs.length - tgt.length;
  if (share === undefined || tgt.length === 0 || src === 0) return recs;
  if (!(share > 0 && share < 1)) throw new Error(`targetShare ${share} outside (0, 1)`);
  const copies = Math.max(1, Math.round((share * src) / ((1 - share) * tgt.length)));
  return [...recs.filter((r) => !isLabel(r)), ...Array.from({ length: copies }, () => tgt).flat()];
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
 * earlier stage, of `warmSteps`; likewise `warmLr`, `warmEmaHorizon`, `warmLabelSmoothing` and `warmDropout`), the warm-up, and the soft-label weight α of eq. 2 (1 without soft labels).
 */
export function sftLoopConfig(s: SftSettings, o: { init: boolean; mt: boolean; alpha: number }): SftConfig {
  const steps = stageSteps(o.init ? s.warmSteps : s.steps, o.mt, s.mtRatio);
  const horizon = o.init ? (s.warmEmaHorizon ?? s.emaHorizon) : s.emaHorizon;
  const smoothing = o.init ? (s.warmLabelSmoothing ?? s.labelSmoothing) : s.labelSmoothing;
  const dropout = o.init ? (s.warmDropout ?? s.dropout) : s.dropout;
  return {
    steps, batchSize: s.batchSize, lr: o.init ? (s.warmLr ?? s.lr) : s.lr, warmup: Math.min(s.warmupMax, Math.floor(steps * s.warmupShare)),
    weightDecay: s.weightDecay, clip: s.clip, alpha: o.alpha, mtRatio: o.mt ? s.mtRatio : 0, lmWeight: s.lmWeight,
    evalEvery: s.evalEvery, maxLen: s.maxLen, seed: s.seed, groupBatches: s.groupBatches,
    // f32 is left out: the loop's record (trainRecord) of an f32 run stays what it was
    ...(s.precision !== 'f32' ? { precision: s.precision } : {}),
    // likewise a hold of 0 (the schedule before the knob existed)
    ...(s.lrHold > 0 ? { lrHold: s.lrHold } : {}),
    // and decay on every tensor
    ...(s.decayOn !== 'all' ? { decayOn: s.decayOn } : {}),
    // and no weight average; a horizon of h·steps is the decay 1 − 1/(h·steps)
    ...(horizon !== null ? { ema: 1 - 1 / Math.max(2, horizon * steps) } : {}),
    // and no label smoothing
    ...(smoothing > 0 ? { labelSmoothing: smoothing } : {}),
    // and no residual dropout
    ...(dropout > 0 ? { dropout } : {}),
    // and AdamW's own β2
    ...(s.beta2 !== ADAMW_DEFAULTS.beta2 ? { beta2: s.beta2 } : {}),
  };
}

/** The shuffle that picks Stage 2's share of target labels (Figure 3's fractions): its own stream of the SFT seed. */
const targetSubsetSeed = (seed: number) => seed ^ 0x5eed;

/**
 * Training records of a stage: Stage 1 = source labels only; Stage 2 = source + (a share of) target
 * labels; with `twins` (sft.translatedTwins in Stage 2, sft.twinsWithTranslation in Stage 1's runs
 * with the translation task) the source labels' translated twins after them.
 */
export function stageTrainRecords(d: MarketData, stage: 1 | 2, targetFraction: number, seed: number, twins = false): RelevanceRecord[] {
  const src = d.relevance[d.source]!.train;
  if (stage === 1) return twins ? [...src, ...translatedTwins(d)] : src;
  const tgt = [...d.relevance[d.target]!.train];
  const r = rng(targetSubsetSeed(seed));
  for (let i = tgt.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [tgt[i], tgt[j]] = [tgt[j]!, tgt[i]!];
  }
  return [...src, ...tgt.slice(0, Math.round(tgt.length * targetFraction)), ...(twins ? translatedTwins(d) : [])];
}

/** Whether a stage learns the translated twins: Stage 2 with sft.translatedTwins; Stage 1 only in its runs with the translation task, with sft.twinsWithTranslation. */
export function stageLearnsTwins(stage: 1 | 2, mt: boolean, s: Pick<SftSettings, 'translatedTwins' | 'twinsWithTranslation'>): boolean {
  return stage === 2 ? s.translatedTwins : mt && s.twinsWithTranslation;
}

/** sft.freezeEmbeddings: whether a stage keeps the base's token table — a full fine-tuning run from the base (LoRA keeps the whole base anyway; a continuing stage trains it). */
export function freezesEmbeddings(s: Pick<SftSettings, 'freezeEmbeddings' | 'adapter'>, continues: boolean): boolean {
  return s.freezeEmbeddings && s.adapter === 'full' && !continues;
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

/** Options a stage cannot train with, in words (null when fine): α of eq. 2 and the share of target labels. */
export function stageOptionsProblem(o: Pick<SftStageOpts, 'stage' | 'alpha' | 'softLabels' | 'targetFraction'>): string | null {
  if (o.stage !== 1 && o.stage !== 2) return `stage ${JSON.stringify(o.stage)} is not 1 or 2`;
  if (!(o.targetFraction > 0 && o.targetFraction <= 1)) return `target fraction ${o.targetFraction} outside (0, 1]`;
  if (o.softLabels && !(o.alpha >= 0 && o.alpha < 1)) return `α ${o.alpha} with soft labels outside [0, 1): at α = 1 eq. 2 gives the soft labels no weight`;
  if (!o.softLabels && o.alpha !== 1) return `α ${o.alpha} without soft labels: α weighs the human label against soft labels (eq. 2); give soft labels or leave α at 1`;
  return null;
}

const rebuildStage = (o: SftStageOpts) => `remove ${join(o.runDir, o.name)} and run \`csrm sft --run ${o.runDir} --name ${o.name}\` again (or use another --run folder)`;

/**
 * What a stage is made from: the market's data, the tokenizer and the base, the stage it continues,
 * its soft labels and RQA titles (each checked to come from this run), and its settings.
 */
export async function stageProvenance(o: SftStageOpts, base: BaseInfo): Promise<ProvenanceRecord> {
  const market = marketDataHash(o.data);
  const paths: Record<string, string> = { base: o.base, market: o.data };
  let parent = NONE;
  if (o.init) {
    const from = join(o.runDir, o.init, 'best.ckpt');
    if (!existsSync(from)) throw new Error(`${o.name}: stage "${o.init}" to continue from has no ${from} (run it first)`);
    const rec = ((await readCheckpointMeta(from)).meta as { provenance?: ProvenanceRecord } | undefined)?.provenance;
    if (rec?.hashes.market && rec.hashes.market !== market)
      throw new Error(`${o.name}: ${from} was trained on market data ${rec.hashes.market.slice(0, 12)}…, this stage's market ${o.data} is ${market.slice(0, 12)}…; a stage continues one of its own run. Retrain ${o.init} on this market first`);
    parent = await checkpointDigest(from);
    paths.parent = from;
  }
  let softLabels = NONE;
  if (o.softLabels) {
    softLabels = fileSha256(o.softLabels, 'soft labels');
    paths.softLabels = o.softLabels;
  }
  let rqa = NONE;
  if (o.rqa) {
    rqa = checkRqaSource(o.rqa, { market, base: base.digest }, `remove ${o.rqa} and run \`csrm rqa --run ${dirname(o.rqa)}${basename(o.rqa) === 'rqa-star' ? ' --star' : ''}\``);
    paths.rqa = o.rqa;
  }
  const settings = { stage: o.stage, mt: o.mt, alpha: o.softLabels ? o.alpha : 1, targetFraction: o.targetFraction, init: o.init ?? null, softLabelsFrom: o.softLabelsFrom ?? null, train: recordedSft(o.train) };
  return provenance({ market, tokenizer: base.tokenizerHash, base: base.digest, parent, softLabels, rqa }, settings, paths);
}

export async function runSftStage(o: SftStageOpts): Promise<SftStageResult> {
  const t0 = performance.now();
  const problem = stageOptionsProblem(o);
  if (problem) throw new Error(`${o.name}: ${problem}`);
  manualSeed(o.train.seed);
  const dir = join(o.runDir, o.name);
  const baseInfo = await readBase(o.base, o.tokenizer);
  const record = await stageProvenance(o, baseInfo);
  const done = readJsonIf<SftStageResult>(join(dir, 'result.json'));
  if (done) {
    checkProvenance(`${dir}/result.json`, done.provenance, record, rebuildStage(o));
    const best = [join(dir, 'best.ckpt'), join(dir, 'last.ckpt')].find((f) => existsSync(f));
    const now = best ? await checkpointDigest(best) : NONE;
    if (now !== done.model) throw new Error(`${dir}: the stage's model changed after its result was written (${best ?? 'best.ckpt'} sha256 ${now.slice(0, 12)}…, result.json records ${String(done.model).slice(0, 12)}…). Rebuild it: ${rebuildStage(o)}`);
    if (!o.quiet) console.error(`${o.name}: already done (delete ${dir}/result.json to rerun)`);
    return done;
  }
  mkdirSync(dir, { recursive: true });
  const tok = await loadBaseTokenizer(baseInfo);
  const data = await loadMarketData(o.data);
  const fromStage = o.softLabelsFrom ? join(o.runDir, o.softLabelsFrom, 'best.ckpt') : null;
  const relabel = `remove ${o.softLabels} and label again (\`csrm label --run ${o.runDir} --from ${o.softLabelsFrom ?? 'STAGE'} --out ${o.softLabels}\`)`;
  const soft = o.softLabels
    ? await readSoftLabelsFrom(o.softLabels, baseInfo, fromStage ? { path: fromStage, digest: await checkpointDigest(fromStage) } : null, relabel)
    : null;
  // sft.codeSwitch: a share of the source records said partly in the other language (same labels)
  const stageRecs = codeSwitchSource(stageTrainRecords(data, o.stage, o.targetFraction, o.train.seed, stageLearnsTwins(o.stage, o.mt, o.train)), data.source, data.translations, o.train.codeSwitch, o.train.seed);
  const trainRecs = await withRqa(o.stage === 2 ? upsampleTarget(stageRecs, data.target, o.train.targetShare ?? undefined, o.train.twinsSide) : stageRecs, o.rqa);
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
  const base = await loadBase(o.base);
  const { model } = base;
  if (o.init) {
    await loadAdapters(model, join(o.runDir, o.init, 'best.ckpt'), base);
  } else if (o.train.labelHead && o.train.adapter === 'full') {
    untieLabels(model, tok.labelTokenIds);
  } else if (o.train.adapter === 'lora') {
    const lora = paperLora(model.config.dim);
    if (o.train.loraR !== null) Object.assign(lora, { r: o.train.loraR, alpha: 2 * o.train.loraR });
    addLora(model, lora, o.train.seed);
  }
  if (freezesEmbeddings(o.train, !!o.init)) model.embed.requiresGrad = false;
  const cfg = sftLoopConfig(o.train, { init: !!o.init, mt: o.mt, alpha: soft ? o.alpha : 1 });
  const res = await runSft({ model, labelIds: tok.labelTokenIds, padId: tok.pad, relevance, translation, dev, cfg, dir, label: o.name, quiet: o.quiet, provenance: record });
  // the best dev checkpoint is the stage's model
  const best = existsSync(join(dir, 'best.ckpt')) ? join(dir, 'best.ckpt') : join(dir, 'last.ckpt');
  const evalBase = await loadBase(o.base);
  const evalModel = evalBase.model;
  await loadAdapters(evalModel, best, evalBase);
  const ev = await evaluateModel(evalModel, data, tok, o.train.maxLen, o.rqa);
  const result: SftStageResult = {
    name: o.name,
    setting: ['SFT', o.mt ? 'MT' : '', o.rqa ? 'RQA' : '', soft ? `SD(α=${o.alpha})` : ''].filter(Boolean).join('+'),
    trainingData: o.stage === 1 ? data.source : `${data.source}+${data.target}${o.targetFraction < 1 ? ` (${Math.round(o.targetFraction * 100)}% of ${data.target})` : ''}`,
    train: { bestStep: res.bestStep, bestDevF1: res.bestDevF1, tokensPerSec: res.tokensPerSec, seconds: res.seconds, samples: stageRecs.length, streamItems: relevance.length, translationSamples: translation.length, adapter: model.config.lora ? 'lora' : 'full', init: o.init ?? null },
    trainable: trainableReport(model),
    eval: ev,
    seconds: (performance.now() - t0) / 1000,
    provenance: record,
    model: await checkpointDigest(best),
  };
  writeJson(join(dir, 'history.json'), res.history);
  writeJson(join(dir, 'result.json'), result);
  disposeLlama(model);
  disposeLlama(evalModel);
  return result;
}
