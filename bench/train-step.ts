// End-to-end training step of the LM presets (B = 16 sequences × T = 64 tokens, vocabulary 3000):
// exactly the step pipeline/train/sft.ts takes (sftStep: forwardHidden in training mode → lmLogits →
// lmCrossEntropy → backward → clipGradNorm → AdamW), full fine-tuning and LoRA (paperLora on q/k/v).
//
// GFLOP/s counts model FLOPs (so "% of ceiling" is the MFU against the FMA ceiling of the same run):
//   full:  6·N·tokens            every weight: 2 forward, 2 activation gradient, 2 weight gradient
//   LoRA:  4·N·tokens + 6·N_lora·tokens   the frozen base still runs forward and passes activation
//          gradients back (≈: layer 0's q/k/v need no input gradient), the adapters train fully
//   + attention 3·attentionFwdFlops = 12·L·B·T²·dim (forward + twice that backward)
// where N = the decoder's matmul weights per token, and the (tied) LM head's V·dim counted only on
// the B·(T−1) rows that carry a loss. The embedding lookup costs no FLOPs; norms are negligible.
//
// Memory: peak device bytes of a step (pool counter, reset before each step, relative to before the
// model existed) beside what the step must hold: parameters + gradients of the trainable ones +
// AdamW's two moments + the activations the tape keeps for backward (bench/e2e-model.ts).
// relErr: the losses of the first two steps (the second one after a whole update: backward,
// clipping, AdamW) against the same two steps on the engine's float64 backend (same initial weights,
// batch, learning rates and dropout masks); the larger of the two relative errors.
// Precision: f32, or mixed-f16 (models/mixed-precision.ts: f16 products of the projections and the
// head, f32 master weights, dynamic loss scaling with one flag readback per step), whose float64
// reference is the same f32 step: its tolerance is f16's (1e-3).
import { adamw, backward, clipGradNorm, dispatchCount, item, liveBytes, peakBytes, resetPeak, scopeAsync, tensor, zeroGrad, type LossScale } from '../engine/index.ts';
import { lmCrossEntropy } from '../engine/losses/index.ts';
import { rng } from '../engine/random.ts';
import { makeConfig, paperLora, paramCounts, type LlamaConfig } from '../models/llama-config.ts';
import { addLora, baseParams, disposeLlama, forwardHidden, hiddenRows, initLlama, llamaOnBackend, lmLogits, loraParams, trainableParams, type Llama } from '../models/llama.ts';
import { gpuSync } from '../engine/device.ts';
import type { Precision } from '../models/mixed-precision.ts';
import type { LmSeq } from '../pipeline/train/batch.ts';
import { lrAt, sftStep, type SftConfig } from '../pipeline/train/sft.ts';
import { activationBytes, attentionFwdFlops, cpuBatch, layerMatmulParams, modelMatmulDims, storageBytes } from './e2e-model.ts';
import type { BenchCase, BenchInstance, BenchOpts, BenchSuite } from './types.ts';

export interface TrainShape {
  preset: string;
  lora: boolean;
  B: number;
  T: number;
  V: number;
  /** Overrides of the preset (smoke: a smaller model). */
  over?: Partial<LlamaConfig>;
  /** Absent: f32. */
  precision?: Precision;
}

export function trainConfig(s: TrainShape): LlamaConfig {
  const c = makeConfig(s.preset, s.V, s.over);
  return s.lora ? { ...c, lora: paperLora(c.dim) } : c;
}

/** Model FLOPs of one step (see the header for the convention). */
export function trainStepFlops(c: LlamaConfig, B: number, T: number): number {
  const tokens = B * T;
  const lossRows = B * (T - 1);
  const body = c.nLayers * layerMatmulParams(c);
  const head = c.vocabSize * c.dim;
  const attn = 3 * attentionFwdFlops(c, B, T);
  if (!c.lora) return 6 * body * tokens + 6 * head * lossRows + attn;
  return 4 * body * tokens + 4 * head * lossRows + 6 * paramCounts(c).lora * tokens + attn;
}

const shapeName = (s: TrainShape, c: LlamaConfig) =>
  `${s.preset}${s.over ? '-smoke' : ''} B${s.B}xT${s.T}xV${s.V} ${c.lora ? `lora-r${c.lora.r}` : 'full'}${s.precision && s.precision !== 'f32' ? ` ${s.precision}` : ''}`;

/** The SFT settings of a benchmark step: lr constant (no warm-up, an effectively endless schedule), weight decay as the paper. */
export function benchSftConfig(B: number, T: number): SftConfig {
  return { steps: 1e9, batchSize: B, lr: 1e-3, warmup: 0, weightDecay: 0.01, clip: 1, alpha: 1, mtRatio: 0, lmWeight: 1, evalEvery: 1e9, maxLen: T, seed: 7, groupBatches: 1 };
}

/** B synthetic sequences of T random token ids (full length: every position carries loss but the last). */
function sequences(s: TrainShape): LmSeq[] {
  const r = rng(4242 + s.B * 31 + s.T);
  return Array.from({ length: s.B }, () => ({ kind: 'lm' as const, ids: Array.from({ length: s.T }, () => r.int(s.V)) }));
}

const CHECKED_STEPS = 2;

/** The losses of the first `n` steps on the float64 backend: the step of sftStep written out on a float64 batch (buildBatch is GPU-only). */
async function referenceLosses(ref: Llama, s: TrainShape, cfg: SftConfig, seqs: LmSeq[], n: number): Promise<number[]> {
  const cb = await cpuBatch(seqs, 0, s.T);
  const targets = tensor(cb.lmTargets, [cb.lmTargets.length], { dtype: 'i32', backend: 'cpu' });
  const params = trainableParams(ref);
  const opt = adamw(params, { lr: cfg.lr, weightDecay: cfg.weightDecay });
  const out: number[] = [];
  for (let step = 0; step < n; step++) {
    zeroGrad(params);
    const h = forwardHidden(ref, cb.batch, { training: true, seed: cfg.seed * 100003 + step });
    const loss = lmCrossEntropy(lmLogits(ref, hiddenRows(h, cb.lmIdx)), targets);
    out.push((loss.cpu as Float64Array)[0]! * cfg.lmWeight);
    backward(loss);
    clipGradNorm(params, cfg.clip);
    opt.step(lrAt(cfg, step));
  }
  opt.dispose();
  zeroGrad(params);
  return out;
}

function trainCase(s: TrainShape): BenchCase {
  const c = trainConfig(s);
  return {
    kernel: 'train_step',
    shape: shapeName(s, c),
    system: 'ours',
    flops: trainStepFlops(c, s.B, s.T),
    ceiling: 'compute',
    items: { count: s.B * s.T, unit: 'tokens' },
    tune: {
      matmul: modelMatmulDims(c, s.B * s.T, s.B * (s.T - 1), s.V, true),
      // mixed precision multiplies the projections and heads in f16: the same shapes, f16 buckets
      ...(s.precision === 'mixed-f16' ? { matmulF16: modelMatmulDims(c, s.B * s.T, s.B * (s.T - 1), s.V, true) } : {}),
    },
    tolerance: s.precision === 'mixed-f16' ? 1e-3 : 1e-4,
    async setup(): Promise<BenchInstance> {
      const live0 = liveBytes();
      const m = initLlama(makeConfig(s.preset, s.V, s.over), 1);
      if (c.lora) addLora(m, c.lora, 3);
      // the float64 twin of the initial weights, for the first step's loss
      const ref = await llamaOnBackend(m, 'cpu');
      const params = trainableParams(m);
      const cfg = { ...benchSftConfig(s.B, s.T), ...(s.precision ? { precision: s.precision } : {}) };
      const opt = adamw(params, { lr: cfg.lr, weightDecay: cfg.weightDecay });
      const seqs = sequences(s);
      const inp = { model: m, labelIds: [0, 1, 2] as const, padId: 0, cfg, label: 'bench' };
      let step = 0;
      let peak = 0;
      let saved = 0;
      let dispatches = 0;
      let scale: LossScale | null = null;
      const run = async (): Promise<number> => {
        resetPeak();
        const d0 = dispatchCount();
        const loss = await scopeAsync(async () => {
          const st = await sftStep(inp, params, opt, seqs, step, scale);
          scale = st.scale;
          if (step === 0) saved = activationBytes(st.loss, [...baseParams(m), ...loraParams(m)]);
          const v = await item(st.loss); // the readback ends the step, as runSft's logged steps do
          st.dispose();
          return v;
        });
        peak = Math.max(peak, peakBytes() - live0);
        dispatches = dispatchCount() - d0;
        step++;
        return loss;
      };
      // the first steps compile, count the tape and give the losses to check
      const firstLosses: number[] = [];
      for (let i = 0; i < CHECKED_STEPS; i++) firstLosses.push(await run());
      const all = [...baseParams(m), ...loraParams(m)];
      const trainable = storageBytes(params);
      const required = storageBytes(all) + trainable /* gradients */ + 2 * trainable /* AdamW m, v */ + saved;
      return {
        async run() {
          const loss = await run();
          if (!Number.isFinite(loss)) throw new Error(`train_step ${shapeName(s, c)}: loss became ${loss} at step ${step - 1}`);
        },
        get peakBytes() {
          return peak;
        },
        get dispatches() {
          return dispatches;
        },
        requiredBytes: required,
        async relErr() {
          const want = await referenceLosses(ref, s, inp.cfg, seqs, CHECKED_STEPS);
          return Math.max(...want.map((w, i) => Math.abs(firstLosses[i]! - w) / Math.abs(w)));
        },
        dispose() {
          opt.dispose();
          zeroGrad(params);
          disposeLlama(m);
          disposeLlama(ref);
        },
      };
    },
  };
}

export function trainShapes(o: BenchOpts): TrainShape[] {
  if (o.smoke) {
    // a one-layer model with odd sizes: B, T and V not multiples of any tile
    const over = { dim: 32, nHeads: 2, nKvHeads: 1, ffnDim: 48, nLayers: 1 };
    return [...[false, true].map((lora) => ({ preset: 'tiny', lora, B: 3, T: 9, V: 61, over })), { preset: 'tiny', lora: false, B: 3, T: 9, V: 61, over, precision: 'mixed-f16' as const }];
  }
  // mixed-f16 beside f32 for full fine-tuning (the demo's and gpu config's adapter)
  const all: TrainShape[] = ['tiny', 'small'].flatMap((preset): TrainShape[] => [
    ...[false, true].map((lora) => ({ preset, lora, B: 16, T: 64, V: 3000 })),
    { preset, lora: false, B: 16, T: 64, V: 3000, precision: 'mixed-f16' as const },
  ]);
  // the gpu config's model (dim 512, 8 layers) in both precisions, on hardware GPUs only (minutes per
  // step on lavapipe): 4,096 tokens per step, enough work for the matrix units to matter
  if (!gpuSync().info.isSoftware) {
    for (const precision of ['f32', 'mixed-f16'] as const) all.push({ preset: 'base', lora: false, B: 16, T: 256, V: 3000, precision });
  }
  return o.size === undefined ? all : all.filter((s) => s.T === o.size || s.V === o.size);
}

export const suite: BenchSuite = {
  name: 'train-step',
  cases: (o) => trainShapes(o).map(trainCase),
};
