// Self-distillation labelling throughput: the teacher scores relevance prompts with the three label
// tokens' probabilities (pipeline/train/score.ts scoreSeqs: batches of 64, sorted by length, no
// gradients) — samples/s over 256 synthetic prompts of 50–70 token ids, vocabulary 3000.
//
// GFLOP/s counts the FLOPs the three label probabilities need (scoreSeqs runs forwardRows): every
// layer but the last over all tokens, 2·N·tokens (N = a layer's matmul weights) + its causal
// attention (full-square convention, bench/e2e-model.ts); the last layer's keys and values over all
// tokens, the rest of it (q, o, MLP and one query row's attention) at the answer slot only; the
// 3-row label head.
// Memory: peak device bytes of a repetition beside what inference must hold: the parameters plus
// the widest working set one layer needs at once for the largest batch, B·T·max(2·dim + 3·ffn,
// dim + 2·q + 2·kv)·4 bytes (the residual, its norm and SwiGLU's gate, up and output; or the
// residual with attention's roped q, k, v and output), an analytic estimate — no tape here.
// relErr: the label log-probabilities, centred per prompt (so the constant −log 3 of near-uniform
// scores cannot hide an error), of a sample of prompts each run alone on the float64 backend.
import { dispatchCount, liveBytes, logSoftmax, noGrad, peakBytes, relErr, resetPeak } from '../engine/index.ts';
import { rng } from '../engine/random.ts';
import { headDim, makeConfig, paramCounts, type LlamaConfig } from '../models/llama-config.ts';
import { baseParams, disposeLlama, forwardHidden, hiddenRows, initLlama, labelLogits, llamaOnBackend } from '../models/llama.ts';
import type { RelevanceSeq } from '../pipeline/train/batch.ts';
import { scoreSeqs } from '../pipeline/train/score.ts';
import { attentionFwdFlops, cpuBatch, layerMatmulParams, modelMatmulDims, storageBytes } from './e2e-model.ts';
import type { BenchCase, BenchInstance, BenchOpts, BenchSuite } from './types.ts';

export interface LabelShape {
  preset: string;
  samples: number;
  batch: number;
  minLen: number;
  maxLen: number;
  V: number;
  over?: Partial<LlamaConfig>;
}

const LABEL_IDS = [5, 6, 7] as const; // the "0"/"1"/"2" tokens of a real vocabulary are just ids too
const PAD = 0;
const CHECKED = 8; // prompts recomputed in float64

function prompts(s: LabelShape): RelevanceSeq[] {
  const r = rng(777 + s.samples);
  return Array.from({ length: s.samples }, () => {
    const n = s.minLen + r.int(s.maxLen - s.minLen + 1);
    return { kind: 'relevance' as const, ids: Array.from({ length: n }, () => r.int(s.V)), hard: r.int(3), soft: null };
  });
}

/** Model FLOPs of scoring these prompts (see the header). */
export function labelFlops(c: LlamaConfig, seqs: RelevanceSeq[]): number {
  const layer = layerMatmulParams(c);
  const kv = 2 * c.dim * c.nKvHeads * headDim(c);
  const perLayerAttn = attentionFwdFlops(c, 1, 1) / c.nLayers; // 4·dim per query-key pair
  let f = 0;
  for (const q of seqs) {
    const T = q.ids.length;
    f += 2 * (c.nLayers - 1) * layer * T + (c.nLayers - 1) * perLayerAttn * T * T; // the full layers
    f += 2 * kv * T + 2 * (layer - kv) + perLayerAttn * T; // the last layer: k/v everywhere, the rest at one row
    f += 2 * 3 * c.dim; // the label head
  }
  return f;
}

/** The analytic bytes inference must hold for the largest batch scoreSeqs forms (see the header). */
function inferenceRequired(c: LlamaConfig, seqs: RelevanceSeq[], batch: number, paramBytes: number): number {
  const lens = seqs.map((q) => q.ids.length).sort((a, b) => a - b); // scoreSeqs batches by sorted length
  let maxBT = 0;
  for (let i = 0; i < lens.length; i += batch) {
    const chunk = lens.slice(i, i + batch);
    maxBT = Math.max(maxBT, chunk.length * chunk[chunk.length - 1]!);
  }
  const q = c.nHeads * headDim(c);
  const kv = c.nKvHeads * headDim(c);
  return paramBytes + 4 * maxBT * Math.max(2 * c.dim + 3 * c.ffnDim, c.dim + 2 * q + 2 * kv);
}

function labelCase(s: LabelShape): BenchCase {
  const c = makeConfig(s.preset, s.V, s.over);
  const seqs = prompts(s);
  const tokens = seqs.reduce((n, q) => n + q.ids.length, 0);
  return {
    kernel: 'label_score',
    shape: `${s.preset}${s.over ? '-smoke' : ''} ${s.samples}x${s.minLen}-${s.maxLen}tok bs${s.batch} V${s.V} (${(paramCounts(c).base / 1e6).toFixed(2)}M params)`,
    system: 'ours',
    flops: labelFlops(c, seqs),
    ceiling: 'compute',
    items: { count: s.samples, unit: 'samples' },
    tune: { matmul: modelMatmulDims(c, s.batch * s.maxLen, s.batch, 3, false) },
    tolerance: 1e-4,
    async setup(): Promise<BenchInstance> {
      const live0 = liveBytes();
      const m = initLlama(c, 2);
      const ref = await llamaOnBackend(m, 'cpu');
      let peak = 0;
      let dispatches = 0;
      let last: [number, number, number][] = [];
      const run = async () => {
        resetPeak();
        const d0 = dispatchCount();
        last = await scoreSeqs(m, seqs, LABEL_IDS, PAD, s.maxLen, { batchSize: s.batch });
        dispatches = dispatchCount() - d0;
        peak = Math.max(peak, peakBytes() - live0);
      };
      await run(); // compiles every kernel outside the timed runs
      return {
        run,
        get peakBytes() {
          return peak;
        },
        get dispatches() {
          return dispatches;
        },
        requiredBytes: inferenceRequired(c, seqs, s.batch, storageBytes(baseParams(m))),
        async relErr() {
          const centred = (lp: number[]) => lp.map((v) => v - (lp[0]! + lp[1]! + lp[2]!) / 3);
          const idx = Array.from({ length: Math.min(CHECKED, seqs.length) }, (_, i) => Math.floor((i * seqs.length) / Math.min(CHECKED, seqs.length)));
          const got: number[] = [];
          const want: number[] = [];
          for (const i of idx) {
            got.push(...centred(last[i]!.map(Math.log)));
            const cb = await cpuBatch([seqs[i]!], PAD, s.maxLen);
            const lp = noGrad(() => logSoftmax(labelLogits(ref, hiddenRows(forwardHidden(ref, cb.batch), cb.answerIdx), LABEL_IDS)));
            want.push(...centred(Array.from(lp.cpu as Float64Array)));
          }
          return relErr(got, want);
        },
        dispose() {
          disposeLlama(m);
          disposeLlama(ref);
        },
      };
    },
  };
}

export function labelShapes(o: BenchOpts): LabelShape[] {
  if (o.smoke) return [{ preset: 'tiny', samples: 5, batch: 2, minLen: 4, maxLen: 11, V: 61, over: { dim: 32, nHeads: 2, nKvHeads: 1, ffnDim: 48, nLayers: 1 } }];
  const all = ['tiny', 'small'].map((preset) => ({ preset, samples: 256, batch: 64, minLen: 50, maxLen: 70, V: 3000 }));
  return o.size === undefined ? all : all.filter((s) => s.samples === o.size || s.V === o.size);
}

export const suite: BenchSuite = {
  name: 'label-throughput',
  cases: (o) => labelShapes(o).map(labelCase),
};
