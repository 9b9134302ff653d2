import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { lmCrossEntropy } from '../../engine/losses/index.ts';
import { makeConfig } from '../../models/llama-config.ts';
import { addLora, disposeLlama, forwardHidden, halfPrecisionWeights, hiddenRows, initLlama, llamaOnBackend, lmLogits, namedTensors, trainableParams, type Llama } from '../../models/llama.ts';
import { withHalfWeights, type Precision } from '../../models/mixed-precision.ts';
import { buildBatch, type LmSeq } from '../../pipeline/train/batch.ts';
import { runSft, sftStep, type SftConfig } from '../../pipeline/train/sft.ts';
import { cpuBatch } from '../../bench/e2e-model.ts';
import { rng } from '../util.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'csrm-mixed-'));

/** n random sequences of T tokens below V (fixed by the seed). */
function seqs(n: number, T: number, V: number, seed: number): LmSeq[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => ({ kind: 'lm' as const, ids: Array.from({ length: T }, () => 1 + r.int(V - 1)) }));
}

/** Gives `t` the values of `src` (storage swapped: t keeps its identity); src is disposed. */
function setData(t: E.Tensor, src: E.Tensor): void {
  const old = t.gpu;
  t.gpu = src.gpu;
  src.gpu = old;
  src.dispose();
}

/** LM loss and the gradients of every trainable tensor, on the model's backend in the given precision. */
async function lossAndGrads(m: Llama, batch: { batch: import('../../models/llama.ts').Batch; lmIdx: number[]; lmTargets: number[] }, precision: Precision) {
  const ps = trainableParams(m);
  E.zeroGrad(ps);
  const backend = m.embed.backend;
  const out = await E.scopeAsync(async () => {
    const h = forwardHidden(m, batch.batch, { precision });
    const targets = E.tensor(batch.lmTargets, [batch.lmTargets.length], { dtype: 'i32', backend });
    const loss = lmCrossEntropy(lmLogits(m, hiddenRows(h, batch.lmIdx), precision), targets);
    E.backward(loss);
    return E.item(loss);
  });
  const grads: Float64Array[] = [];
  for (const p of ps) grads.push(Float64Array.from(await E.read(p.grad!)));
  E.zeroGrad(ps);
  return { loss: out, grads };
}

describe('mixed-f16 forward/backward against float64', () => {
  for (const lora of [false, true]) {
    it(`${lora ? 'LoRA on q/k/v' : 'full'}: loss and every gradient within the f16 tolerance; f32 far inside it`, async () => {
      const V = 97;
      // the tiny preset's widths (products with K = 64 and 176), B·T = 33 rows: nothing a multiple of a tile
      const m = initLlama(makeConfig('tiny', V), 5);
      if (lora) addLora(m, { r: 4, alpha: 8, dropout: 0, targets: ['q', 'k', 'v'] }, 6);
      // LoRA's B starts at 0 (then A gets no gradient): random B, so every adapter tensor has one
      if (lora) for (const l of m.layers) for (const ad of Object.values(l.lora)) setData(ad!.b, E.randn(ad!.b.shape, { seed: 8, std: 0.05 }));
      const ref = await llamaOnBackend(m, 'cpu');
      const ss = seqs(3, 11, V, 41);
      const gpuBatch = buildBatch(ss, 0, 11);
      const want = await lossAndGrads(ref, await cpuBatch(ss, 0, 11), 'f32');
      const errs: Record<Precision, { loss: number; grad: number }> = {} as never;
      for (const precision of ['f32', 'mixed-f16'] as const) {
        const got = await lossAndGrads(m, gpuBatch, precision);
        errs[precision] = {
          loss: Math.abs(got.loss - want.loss) / want.loss,
          grad: Math.max(...got.grads.map((g, i) => E.relErr(g, want.grads[i]!))),
        };
      }
      console.log(`mixed-precision ${lora ? 'lora' : 'full'}: loss ${want.loss.toPrecision(8)}; rel. errors vs float64`, JSON.stringify(errs));
      // f16 operands carry a relative rounding of u = 2^-11 ≈ 4.9e-4 each; with f32 accumulation the
      // products (K ≤ 176) stay within a few u, and a gradient passes through ≤ 2·nLayers + 1 of them
      // forward and back. Measured (this seed): loss 2.1e-6 / 7.2e-7, gradients (norm-wise, worst
      // tensor) 1.25e-3 full / 7.2e-4 LoRA; f32: 4e-8 and 5.6e-7.
      expect(errs['mixed-f16'].loss).toBeLessThan(1e-3);
      expect(errs['mixed-f16'].grad).toBeLessThan(1e-2);
      expect(errs.f32.grad).toBeLessThan(1e-5);
      // the products really ran in f16: its error is far above f32's
      expect(errs['mixed-f16'].grad).toBeGreaterThan(100 * errs.f32.grad);
      gpuBatch.dispose();
      disposeLlama(m);
      disposeLlama(ref);
    });
  }
});

/** The SFT loop's settings for the band test: the tiny preset memorising a fixed set of random sequences. */
function bandCfg(steps: number, precision: Precision, over: Partial<SftConfig> = {}): SftConfig {
  return { steps, batchSize: 8, lr: 2e-3, warmup: 10, weightDecay: 0.01, clip: 1, alpha: 1, mtRatio: 0, lmWeight: 1, evalEvery: 10, maxLen: 32, seed: 3, groupBatches: 1, ...(precision === 'f32' ? {} : { precision }), ...over };
}

async function train(precision: Precision, steps: number, dir: string, stopAfter?: number) {
  const m = initLlama(makeConfig('tiny', V_BAND), 1);
  const r = await runSft({ model: m, labelIds: [0, 1, 2], padId: 0, relevance: [], translation: [], lm: BAND_DATA, dev: [], cfg: bandCfg(steps, precision), dir, label: `band-${precision}`, quiet: true, stopAfter });
  const weights: Record<string, number[]> = {};
  for (const [k, t] of Object.entries(namedTensors(m, 'base'))) weights[k] = Array.from(await E.read(t));
  disposeLlama(m);
  return { r, weights };
}

const V_BAND = 300;
const BAND_DATA = seqs(16, 32, V_BAND, 77);
const STEPS = 80;
const lossAt = (h: { step: number; loss: number }[], step: number) => h.find((p) => p.step === step)!.loss;

describe('mixed-f16 training (tiny preset, 16 random sequences of 32 tokens, V 300, 80 steps, same seed and data)', () => {
  it('reaches the f32 run\'s loss band', async () => {
    const d32 = tmp();
    const d16 = tmp();
    const f32 = await train('f32', STEPS, d32);
    const f16 = await train('mixed-f16', STEPS, d16);
    const a = lossAt(f32.r.history, STEPS);
    const b = lossAt(f16.r.history, STEPS);
    const first = lossAt(f32.r.history, 1);
    console.log(`band: step 1 loss ${first.toPrecision(8)} / ${lossAt(f16.r.history, 1).toPrecision(8)}; step ${STEPS}: f32 ${a.toPrecision(8)}, mixed-f16 ${b.toPrecision(8)}; scaler`, JSON.stringify(f16.r.lossScale));
    // the run learns (measured 5.7026 → 1.9195), and mixed-f16 ends in the f32 run's band: within
    // ±0.05 of its loss (measured: f32 1.9194872, mixed-f16 1.9194902, no step skipped at 2^16)
    expect(a).toBeLessThan(0.5 * first);
    expect(Math.abs(b - a)).toBeLessThan(0.05);
    expect(f16.r.lossScale).toEqual({ scale: 2 ** 16, goodSteps: STEPS, skipped: 0 });
    expect(f32.r.lossScale).toBeUndefined();
    // killed after 30 steps and resumed: the same losses, weights and scaler as the uninterrupted run
    const dk = tmp();
    await train('mixed-f16', STEPS, dk, 30);
    const resumed = await train('mixed-f16', STEPS, dk);
    expect(resumed.r.history.map((h) => h.loss)).toEqual(f16.r.history.map((h) => h.loss));
    expect(resumed.r.lossScale).toEqual(f16.r.lossScale);
    expect(resumed.weights).toEqual(f16.weights);
    for (const d of [d32, d16, dk]) rmSync(d, { recursive: true });
  });

  it('a step whose scaled gradients overflow f16 is skipped: weights and AdamW untouched, the scale halves', async () => {
    const m = initLlama(makeConfig('tiny', V_BAND), 1);
    const ps = trainableParams(m);
    const opt = E.adamw(ps, { lr: 1e-3 });
    const before = await Promise.all(ps.map(async (p) => Array.from(await E.read(p))));
    const inp = { model: m, labelIds: [0, 1, 2] as const, padId: 0, cfg: bandCfg(10, 'mixed-f16'), label: 'overflow' };
    // at S = 2^24 the head's output gradient (≈ (p − 1)/rows · S ≈ 6.7e4) is beyond f16's 65504
    const big: E.LossScale = { scale: 2 ** 24, goodSteps: 7, skipped: 0 };
    const r1 = await E.scopeAsync(async () => {
      const st = await sftStep(inp, ps, opt, BAND_DATA.slice(0, 8), 0, big);
      return { scale: st.scale, overflow: st.overflow, loss: await E.item(st.loss) };
    });
    expect(r1.overflow).toBe(true);
    expect(r1.scale).toEqual({ scale: 2 ** 23, goodSteps: 0, skipped: 1 });
    expect(Number.isFinite(r1.loss)).toBe(true);
    expect(opt.state().step).toBe(0);
    for (let i = 0; i < ps.length; i++) expect(Array.from(await E.read(ps[i]!))).toEqual(before[i]);
    // at the default scale the same step goes through
    const r2 = await E.scopeAsync(async () => {
      const st = await sftStep(inp, ps, opt, BAND_DATA.slice(0, 8), 0, E.lossScaleInit());
      return { scale: st.scale, overflow: st.overflow };
    });
    expect(r2).toEqual({ scale: { scale: 2 ** 16, goodSteps: 1, skipped: 0 }, overflow: false });
    expect(opt.state().step).toBe(1);
    opt.dispose();
    E.zeroGrad(ps);
    disposeLlama(m);
  });
});

describe('mixed-f16 with the step\'s weights cast up front (withHalfWeights)', () => {
  for (const lora of [false, true]) {
    it(`${lora ? 'LoRA on q/v' : 'full'}: loss and every gradient bit for bit those of casting each weight where it is multiplied, in fewer dispatches`, async () => {
      const V = 97;
      const m = initLlama(makeConfig('tiny', V), 5);
      if (lora) addLora(m, { r: 4, alpha: 8, dropout: 0, targets: ['q', 'v'] }, 6);
      const batch = buildBatch(seqs(3, 11, V, 43), 0, 11);
      const run = async (upFront: boolean) => {
        const d0 = E.dispatchCount();
        const r = upFront ? await withHalfWeights(halfPrecisionWeights(m), () => lossAndGrads(m, batch, 'mixed-f16')) : await lossAndGrads(m, batch, 'mixed-f16');
        return { ...r, dispatches: E.dispatchCount() - d0 };
      };
      const each = await run(false);
      const front = await run(true);
      expect(front.loss).toBe(each.loss);
      expect(front.grads.length).toBe(each.grads.length);
      front.grads.forEach((g, i) => expect(Array.from(g)).toEqual(Array.from(each.grads[i]!)));
      // 2 layers × 7 projections (less the LoRA ones) + the tied head: one cast each, now a few launches
      const weights = halfPrecisionWeights(m).length;
      expect(weights).toBe(2 * (lora ? 5 : 7) + 1);
      expect(front.dispatches).toBeLessThan(each.dispatches - weights + 5);
      batch.dispose();
      disposeLlama(m);
    });
  }
});
