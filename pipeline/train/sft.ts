// Supervised fine-tuning of the relevance LLM (Stage 1, Stage 2 and self-distillation rounds):
// relevance as generation of "0"/"1"/"2" with the three-token loss (eq. 2–3), optionally interleaved
// with the auxiliary translation task (section 3.2, weight 0.1), LoRA on q/k/v, AdamW (weight decay
// 0.01), global-norm clipping, the best checkpoint chosen by dev micro-F1; resumable.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  add,
  adamw,
  backward,
  clipGradNorm,
  item,
  lossScaleFrom,
  lossScaleInit,
  scaledStep,
  mulScalar,
  scopeAsync,
  tensor,
  zeroGrad,
  type Adamw,
  type LossScale,
  type Tensor,
} from '../../engine/index.ts';
import { threeTokenCE } from '../../engine/losses/index.ts';
import { halfPrecisionWeights, hiddenRows, forwardHidden, forwardRows, labelLogits, lmLoss, noDecayParams, trainableParams, type Llama } from '../../models/llama.ts';
import { PRECISIONS, withHalfWeights, type Precision } from '../../models/mixed-precision.ts';
import { buildBatch, type LmSeq, type RelevanceSeq, type Seq, type TranslationSeq } from './batch.ts';
import { interleave } from './interleave.ts';
import { smoothedTargets, type Triple } from './label-smoothing.ts';
import { progress } from './progress.ts';
import { scoreSeqs } from './score.ts';
import { evaluate } from '../eval/metrics.ts';
import { loadTrainState, saveTrainState, trainedTensors } from './state.ts';
import { lengthGrouped, type GroupedState } from './length-groups.ts';
import { readCheckpointMeta, weightAverage } from '../../engine/index.ts';
import { checkProvenance, provenance, type ProvenanceRecord } from '../stages/provenance.ts';

export interface SftConfig {
  steps: number;
  batchSize: number;
  lr: number;
  warmup: number;
  weightDecay: number; // paper: 0.01
  /** What decays: every trained tensor (default), or the weight matrices only (noDecayParams). */
  decayOn?: 'all' | 'matrices';
  clip: number;
  alpha: number; // eq. 2: weight of the human one-hot term (1 = hard labels only)
  mtRatio: number; // share of translation samples in the interleaved stream (0 = no MT task)
  lmWeight: number; // weight of the token-level LM loss (translation task: paper 0.1; pretraining: 1)
  evalEvery: number;
  maxLen: number;
  seed: number;
  /** Length-grouped batching (length-groups.ts): pools of this many batches; 1 = drawn order. */
  groupBatches: number;
  /**
   * 'mixed-f16': f16 products with f32 master weights (models/mixed-precision.ts) and dynamic loss
   * scaling (engine/optim/loss-scale.ts). Absent means f32, and f32 is left out, so the records of
   * f32 runs (trainRecord) are what they were before the knob existed.
   */
  precision?: Precision;
  /**
   * Share of the steps after the warm-up spent at the peak rate before the cosine decay (lrAt).
   * Absent means 0, and 0 is left out, so the records of runs without a hold stay what they were.
   */
  lrHold?: number;
  /**
   * Weight averaging (engine/optim/weight-average.ts): the decay of an exponential moving average of
   * the trained weights, updated after every step; dev evaluations score the average and best.ckpt
   * holds it. Absent means none, and is left out, so the records of runs without it stay what they were.
   */
  ema?: number;
  /**
   * Label smoothing ε of the human term of eq. 2 (label-smoothing.ts). Absent means 0, and 0 is left
   * out, so the records of runs without it stay what they were.
   */
  labelSmoothing?: number;
  /**
   * Residual dropout of the decoder's blocks in training (models/llama.ts, ForwardOpts.dropout). Absent
   * means 0, and 0 is left out, so the records of runs without it stay what they were.
   */
  dropout?: number;
  /**
   * AdamW's β2 (the second moment's decay). Absent means 0.999, the optimizer's default, and that is
   * left out, so the records of runs made before the knob existed stay what they were.
   */
  beta2?: number;
}

export interface SftHistoryPoint {
  step: number;
  loss: number;
  /** The global gradient norm before clipping at this step (logged with the loss, every 10 steps): how often `clip` binds. */
  gradNorm?: number;
  devF1?: number;
}

export interface SftResult {
  /** The loss scaler at the end of a mixed-precision run (its scale and the steps it skipped). */
  lossScale?: LossScale;
  bestStep: number;
  bestDevF1: number;
  history: SftHistoryPoint[];
  tokensPerSec: number;
  seconds: number;
}

export interface SftInputs {
  model: Llama;
  labelIds: readonly [number, number, number];
  padId: number;
  relevance: RelevanceSeq[];
  translation: TranslationSeq[];
  lm?: LmSeq[]; // pretraining text (then relevance/translation are empty and there is no dev set)
  dev: RelevanceSeq[];
  cfg: SftConfig;
  dir: string; // checkpoints: last.ckpt (resume) and best.ckpt (dev micro-F1)
  label: string; // progress label
  quiet?: boolean;
  /** Stop (as if killed) once this many steps are done; the run resumes from its last checkpoint. */
  stopAfter?: number;
  /** What the run is made from (provenance.ts), kept in its checkpoints with the loop's settings. */
  provenance?: ProvenanceRecord;
}

/** The checkpoints' record: the caller's inputs and the loop's settings, so a resume with other settings is refused. */
export function trainRecord(p: ProvenanceRecord | undefined, cfg: SftConfig): ProvenanceRecord {
  const { settings: _, ...hashes } = p?.hashes ?? {};
  return provenance(hashes, { ...(p?.settings ?? {}), loop: cfg }, p?.paths);
}

/**
 * The learning rate at a step: linear warm-up, the peak held for a share `hold` of the steps after
 * it, then cosine decay to 10% of cfg.lr.
 */
export function lrAt(cfg: SftConfig, step: number): number {
  if (step < cfg.warmup) return (cfg.lr * (step + 1)) / cfg.warmup;
  const hold = cfg.lrHold ?? 0;
  const after = (step - cfg.warmup) / Math.max(1, cfg.steps - cfg.warmup);
  const t = Math.max(0, (after - hold) / (1 - hold));
  return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, t))));
}

/** The dropout stream of a training step (models/llama.ts derives each projection's mask from it); the formula the demo's numbers were made with. */
export const stepDropoutSeed = (seed: number, step: number) => seed * 100003 + step;

/** What one step needs of the run's inputs (the benchmarks take steps without a run). */
export type SftStepInputs = Pick<SftInputs, 'model' | 'labelIds' | 'padId' | 'cfg' | 'label'>;

/**
 * One optimisation step's loss: mean three-token CE over relevance rows + lmWeight × mean token CE.
 * Relevance samples and LM/translation samples run as two sub-batches: a relevance loss reads only
 * the answer slot, so its forward is forwardRows (the last layer at that one position); LM rows need
 * every position. Each sub-batch is padded to its own longest sample.
 */
export function stepLoss(inp: SftStepInputs, seqs: Seq[], step: number): { loss: Tensor; tokens: number; dispose(): void } {
  // mixed precision: the step's f16 weights are cast once, up front (withHalfWeights), not per product
  if ((inp.cfg.precision ?? 'f32') !== 'f32') return withHalfWeights(halfPrecisionWeights(inp.model), () => stepLossIn(inp, seqs, step));
  return stepLossIn(inp, seqs, step);
}

function stepLossIn(inp: SftStepInputs, seqs: Seq[], step: number): { loss: Tensor; tokens: number; dispose(): void } {
  const { model, cfg } = inp;
  const precision = cfg.precision ?? 'f32';
  const dropoutSeed = stepDropoutSeed(cfg.seed, step);
  const rel = seqs.filter((s) => s.kind === 'relevance');
  const rest = seqs.filter((s) => s.kind !== 'relevance');
  const built: ReturnType<typeof buildBatch>[] = [];
  let loss: Tensor | null = null;
  let tokens = 0;
  if (rel.length > 0) {
    const bb = buildBatch(rel, inp.padId, cfg.maxLen);
    built.push(bb);
    tokens += bb.tokens;
    const rows = forwardRows(model, bb.batch, bb.answerIdx, { training: true, seed: dropoutSeed, precision, dropout: cfg.dropout });
    const logits = labelLogits(model, rows, inp.labelIds, precision);
    const hard = tensor(bb.hard, [bb.hard.length], { dtype: 'i32' });
    const useSoft = cfg.alpha < 1 && bb.soft.every((s) => s !== null);
    if (cfg.alpha < 1 && !useSoft) throw new Error(`${inp.label}: alpha ${cfg.alpha} < 1 needs soft labels for every sample`);
    const t = smoothedTargets(useSoft ? cfg.alpha : 1, cfg.labelSmoothing ?? 0, useSoft ? (bb.soft as Triple[]) : null, bb.hard.length);
    const soft = t.soft ? tensor(t.soft.flat(), [t.soft.length, 3]) : null;
    loss = threeTokenCE(logits, [0, 1, 2], hard, soft, { alpha: t.alpha });
  }
  if (rest.length > 0) {
    const bb = buildBatch(rest, inp.padId, cfg.maxLen);
    built.push(bb);
    tokens += bb.tokens;
    // its own dropout stream: the relevance sub-batch's seed would repeat its masks here
    const hidden = forwardHidden(model, bb.batch, { training: true, seed: rel.length > 0 ? lmDropoutSeed(dropoutSeed) : dropoutSeed, precision, dropout: cfg.dropout });
    if (bb.lmIdx.length > 0) {
      const targets = tensor(bb.lmTargets, [bb.lmTargets.length], { dtype: 'i32' });
      const lm = mulScalar(lmLoss(model, hiddenRows(hidden, bb.lmIdx), targets, {}, precision), cfg.lmWeight);
      loss = loss ? add(loss, lm) : lm;
    }
  }
  if (!loss) throw new Error(`${inp.label}: step ${step} has no sample that carries a loss`);
  return { loss, tokens, dispose: () => built.forEach((b) => b.dispose()) };
}

/** The LM sub-batch's dropout stream in a step that also has relevance samples. */
const lmDropoutSeed = (stepSeed: number) => (stepSeed ^ 0x5bd1e995) >>> 0;

/** What one step did: its (unscaled) loss, alive until dispose (or the scope's end), and the loss scaler after it. */
export interface SftStepResult {
  loss: Tensor;
  tokens: number;
  dispose(): void;
  /** Mixed precision: the scaler's next state; null in f32. */
  scale: LossScale | null;
  /** Mixed precision: the scaled gradients overflowed and the optimizer step was skipped. */
  overflow: boolean;
  /** The global gradient norm before clipping ([] tensor, in the caller's scope); null when the step was skipped. */
  gradNorm: Tensor | null;
}

/**
 * One optimisation step exactly as runSft takes it: free the previous gradients, forward and loss,
 * backward, global-norm clipping, AdamW at the scheduled learning rate. In mixed precision backward
 * runs on S·loss, the gradients are unscaled and checked for overflow (one flag read back), and
 * clipping and AdamW run only when none overflowed; `scale` is the scaler's state before the step
 * (null: a fresh one). Call it inside a scope.
 */
export async function sftStep(inp: SftStepInputs, params: Tensor[], opt: Adamw, seqs: Seq[], step: number, scale: LossScale | null = null): Promise<SftStepResult> {
  zeroGrad(params);
  const s = stepLoss(inp, seqs, step);
  let gradNorm: Tensor | null = null;
  const apply = () => {
    gradNorm = clipGradNorm(params, inp.cfg.clip);
    opt.step(lrAt(inp.cfg, step));
  };
  if ((inp.cfg.precision ?? 'f32') === 'f32') {
    backward(s.loss);
    apply();
    return { ...s, scale: null, overflow: false, gradNorm };
  }
  const sc = scale ?? lossScaleInit();
  const scaled = mulScalar(s.loss, sc.scale);
  backward(scaled);
  scaled.dispose();
  const r = await scaledStep(params, sc, apply);
  return { ...s, scale: r.scale, overflow: r.overflow, gradNorm };
}

export async function devF1(inp: SftInputs): Promise<number> {
  const probs = await scoreSeqs(inp.model, inp.dev, inp.labelIds, inp.padId, inp.cfg.maxLen);
  const pred = probs.map((p) => p.indexOf(Math.max(...p)));
  return evaluate(inp.dev.map((d) => d.hard), pred).microF1;
}

export async function runSft(inp: SftInputs): Promise<SftResult> {
  const { model, cfg } = inp;
  // Zero or negative steps would "finish" at once and save an untrained model as the result.
  if (!Number.isInteger(cfg.steps) || cfg.steps < 1) throw new Error(`${inp.label}: steps must be a whole number ≥ 1, got ${cfg.steps}`);
  const mixed = (cfg.precision ?? 'f32') !== 'f32';
  if (!PRECISIONS.includes(cfg.precision ?? 'f32')) throw new Error(`${inp.label}: precision ${JSON.stringify(cfg.precision)} is not one of ${PRECISIONS.join(', ')}`);
  let scale: LossScale | null = mixed ? lossScaleInit() : null;
  // a frozen tensor (requiresGrad off: sft.freezeEmbeddings' token table) gets no gradient, and AdamW skips it
  const params = trainableParams(model);
  const noDecay = cfg.decayOn === 'matrices' ? noDecayParams(model).filter((p) => params.includes(p)) : [];
  const opt = adamw(params, { lr: cfg.lr, weightDecay: cfg.weightDecay, noDecay, ...(cfg.beta2 !== undefined ? { beta2: cfg.beta2 } : {}) });
  const avg = cfg.ema !== undefined ? weightAverage(trainedTensors(model), cfg.ema) : null;
  const tasks = inp.lm
    ? [{ name: 'lm', ratio: 1, items: inp.lm as Seq[] }]
    : [
        { name: 'relevance', ratio: 1 - cfg.mtRatio, items: inp.relevance as Seq[] },
        { name: 'translation', ratio: cfg.mtRatio, items: inp.translation as Seq[] },
      ].filter((t) => t.ratio > 0);
  let start = 0;
  let best = { step: -1, f1: -1 };
  let history: SftHistoryPoint[] = [];
  const grouped = (resume?: GroupedState<Seq>) =>
    lengthGrouped<Seq>((st) => interleave(tasks, cfg.seed, st), cfg.batchSize, cfg.groupBatches, (q) => q.ids.length, cfg.seed, resume);
  let stream = grouped();
  const last = join(inp.dir, 'last.ckpt');
  const record = trainRecord(inp.provenance, inp.cfg);
  if (existsSync(last)) {
    const was = ((await readCheckpointMeta(last)).meta as { provenance?: ProvenanceRecord } | undefined)?.provenance;
    checkProvenance(`${last} (an unfinished run of ${inp.label})`, was, record, `remove ${inp.dir} to train it afresh with these settings`);
    const st = await loadTrainState(last, model, opt, avg);
    start = st.step;
    best = st.best;
    history = st.history;
    stream = grouped(st.cursor as GroupedState<Seq>);
    if (mixed) scale = lossScaleFrom(st.lossScale, last);
    if (!inp.quiet) console.error(`${inp.label}: resuming at step ${start} (best dev F1 ${best.f1.toFixed(4)} at ${best.step})`);
  }
  const bar = progress(inp.label, cfg.steps, { quiet: inp.quiet });
  const t0 = performance.now();
  let tokens = 0;
  let stepTokens = 0;
  const end = Math.min(cfg.steps, inp.stopAfter ?? cfg.steps);
  for (let step = start; step < end; step++) {
    const seqs = stream.next().map((d) => d.item);
    const wantLoss = step % 10 === 0 || step === cfg.steps - 1;
    let gradNorm: number | null = null;
    const lossVal = await scopeAsync(async () => {
      const s = await sftStep(inp, params, opt, seqs, step, scale);
      scale = s.scale;
      if (avg && !s.overflow) avg.update();
      tokens += s.tokens;
      stepTokens = s.tokens;
      const v = wantLoss ? await item(s.loss) : null;
      if (wantLoss && s.gradNorm) gradNorm = await item(s.gradNorm);
      s.dispose();
      return v;
    });
    if (lossVal !== null && !Number.isFinite(lossVal)) throw new Error(`${inp.label}: loss became ${lossVal} at step ${step}`);
    const done = step + 1;
    const point: SftHistoryPoint = { step: done, loss: lossVal ?? NaN, ...(gradNorm !== null ? { gradNorm } : {}) };
    if (done % cfg.evalEvery === 0 || done === cfg.steps) {
      if (inp.dev.length > 0) {
        avg?.swap(); // the average is what is scored and kept as the best
        try {
          point.devF1 = await devF1(inp);
          if (point.devF1 > best.f1) {
            best = { step: done, f1: point.devF1 };
            await saveTrainState(join(inp.dir, 'best.ckpt'), model, null, { step: done, best, history, cursor: null, provenance: record });
          }
        } finally {
          avg?.swap();
        }
      }
      if (lossVal !== null || point.devF1 !== undefined) history.push(point);
      await saveTrainState(last, model, opt, { step: done, best, history, cursor: stream.state(), provenance: record, ...(scale ? { lossScale: scale } : {}) }, avg);
    } else if (lossVal !== null) history.push(point);
    const scaleNote = scale ? `loss scale 2^${Math.log2(scale.scale)} (${scale.skipped} skipped)` : '';
    bar.tick(done, { loss: lossVal ?? undefined, items: stepTokens, extra: [best.f1 >= 0 ? `dev F1 ${best.f1.toFixed(3)}` : '', scaleNote].filter(Boolean).join(', ') });
  }
  const seconds = (performance.now() - t0) / 1000;
  // pretraining has no dev set: nothing to say about one
  bar.done(best.f1 >= 0 ? `best dev F1 ${best.f1.toFixed(4)} at step ${best.step}` : undefined);
  opt.dispose();
  if (avg) {
    // the model leaves as what was scored: the average (a run without a dev set ends on it too)
    avg.swap();
    avg.dispose();
  }
  zeroGrad(params);
  return { ...(scale ? { lossScale: scale } : {}), bestStep: best.step, bestDevF1: best.f1, history, tokensPerSec: tokens / seconds, seconds };
}
