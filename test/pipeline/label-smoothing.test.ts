// Label smoothing of eq. 2's human term (pipeline/train/label-smoothing.ts): the kernel's (α', soft')
// must give the loss α·[(1−ε)·CE(onehot) + ε·CE(u)] + (1−α)·CE(teacher), computed here in float64
// from the definition; and the SFT step must train on it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { threeTokenCE } from '../../engine/losses/index.ts';
import { makeConfig } from '../../models/llama-config.ts';
import { disposeLlama, forwardRows, initLlama, labelLogits } from '../../models/llama.ts';
import { buildBatch, type Seq } from '../../pipeline/train/batch.ts';
import { smoothedTargets, type Triple } from '../../pipeline/train/label-smoothing.ts';
import { stepDropoutSeed, stepLoss, type SftConfig } from '../../pipeline/train/sft.ts';
import { rng } from '../util.ts';

const ce = (t: readonly number[], logp: readonly number[]) => -t.reduce((s, tk, k) => s + tk * logp[k]!, 0);
const logSoftmax = (z: readonly number[]) => {
  const m = Math.max(...z);
  const l = m + Math.log(z.reduce((s, x) => s + Math.exp(x - m), 0));
  return z.map((x) => x - l);
};
const onehot = (h: number) => [0, 1, 2].map((k) => (k === h ? 1 : 0));
const triple = fc.tuple(fc.double({ min: 0.01, max: 1, noNaN: true }), fc.double({ min: 0.01, max: 1, noNaN: true }), fc.double({ min: 0.01, max: 1, noNaN: true })).map((t): Triple => {
  const s = t[0] + t[1] + t[2];
  return [t[0] / s, t[1] / s, t[2] / s];
});
const sample = fc.record({ z: fc.tuple(fc.double({ min: -8, max: 8, noNaN: true }), fc.double({ min: -8, max: 8, noNaN: true }), fc.double({ min: -8, max: 8, noNaN: true })), hard: fc.integer({ min: 0, max: 2 }), t: triple });

describe('smoothedTargets', () => {
  it('the kernel targets give the smoothed loss of eq. 2, with soft rows that are distributions', () => {
    fc.assert(
      fc.property(fc.array(sample, { minLength: 1, maxLength: 6 }), fc.double({ min: 0.05, max: 1, noNaN: true }), fc.double({ min: 0, max: 0.9, noNaN: true }), (xs, alpha, eps) => {
        const teacher = alpha < 1 ? xs.map((x) => x.t) : null;
        const k = smoothedTargets(alpha, eps, teacher, xs.length);
        xs.forEach((x, i) => {
          const lp = logSoftmax(x.z);
          const want = alpha * ((1 - eps) * ce(onehot(x.hard), lp) + eps * ce([1 / 3, 1 / 3, 1 / 3], lp)) + (alpha < 1 ? (1 - alpha) * ce(x.t, lp) : 0);
          const soft = k.soft?.[i];
          const got = k.alpha * ce(onehot(x.hard), lp) + (soft ? (1 - k.alpha) * ce(soft, lp) : 0);
          expect(Math.abs(got - want)).toBeLessThan(1e-9 * (1 + Math.abs(want)));
          if (soft) {
            expect(Math.abs(soft[0] + soft[1] + soft[2] - 1)).toBeLessThan(1e-12);
            expect(Math.min(...soft)).toBeGreaterThanOrEqual(0);
          }
        });
      }),
      { numRuns: 300 },
    );
  });

  it('ε = 0 hands eq. 2 through unchanged: no soft labels at α = 1, the teacher triples themselves otherwise', () => {
    expect(smoothedTargets(1, 0, null, 4)).toEqual({ alpha: 1, soft: null });
    const t: Triple[] = [[0.2, 0.3, 0.5]];
    const k = smoothedTargets(0.5, 0, t, 1);
    expect(k.alpha).toBe(0.5);
    expect(k.soft).toBe(t);
  });

  it('hard labels only: soft is uniform and α is 1 − ε', () => {
    const k = smoothedTargets(1, 0.1, null, 2);
    expect(k.alpha).toBeCloseTo(0.9, 15);
    for (const s of k.soft!) for (const v of s) expect(v).toBeCloseTo(1 / 3, 15);
  });

  it('refuses ε outside [0, 1), α outside (0, 1], and α < 1 without a teacher triple per sample', () => {
    expect(() => smoothedTargets(1, 1, null, 1)).toThrow(/label smoothing 1 is not in \[0, 1\)/);
    expect(() => smoothedTargets(1, -0.1, null, 1)).toThrow(/label smoothing -0.1/);
    expect(() => smoothedTargets(0, 0.1, null, 1)).toThrow(/alpha 0 is not in/);
    expect(() => smoothedTargets(0.5, 0.1, [[1, 0, 0]], 2)).toThrow(/needs a teacher triple for each of the 2 samples/);
  });
});

it('the SFT step trains on the smoothed loss: (1−ε)·CE(hard) + ε·CE(uniform) of the same forward', async () => {
  const V = 41;
  const LABELS = [4, 5, 6] as const;
  const r = rng(21);
  const ids = (n: number) => Array.from({ length: n }, () => 1 + r.int(V - 1));
  const seqs: Seq[] = [
    { kind: 'relevance', ids: ids(11), hard: 2, soft: null },
    { kind: 'relevance', ids: ids(7), hard: 0, soft: null },
    { kind: 'relevance', ids: ids(15), hard: 1, soft: null },
  ];
  const eps = 0.2;
  const cfg: SftConfig = { steps: 1, batchSize: 3, lr: 1e-3, warmup: 0, weightDecay: 0, clip: 1, alpha: 1, mtRatio: 0, lmWeight: 0.1, evalEvery: 10, maxLen: 24, seed: 1, groupBatches: 1, labelSmoothing: eps };
  const model = initLlama(makeConfig('tiny', V, { dim: 32, nHeads: 2, nKvHeads: 1, ffnDim: 48, nLayers: 1 }), 3);
  const run = (viaStep: boolean, smoothing: number) =>
    E.scopeAsync(async () => {
      let loss: E.Tensor;
      if (viaStep) loss = stepLoss({ model, labelIds: LABELS, padId: 0, cfg: { ...cfg, labelSmoothing: smoothing }, label: 'test' }, seqs, 0).loss;
      else {
        const bb = buildBatch(seqs, 0, cfg.maxLen);
        const logits = labelLogits(model, forwardRows(model, bb.batch, bb.answerIdx, { training: true, seed: stepDropoutSeed(cfg.seed, 0) }), LABELS);
        const hard = E.tensor(bb.hard, [bb.hard.length], { dtype: 'i32' });
        const u = E.tensor(new Array(3 * bb.hard.length).fill(1 / 3), [bb.hard.length, 3]);
        // alpha 0: the soft term alone, CE(uniform)
        loss = E.add(E.mulScalar(threeTokenCE(logits, [0, 1, 2], hard, null, { alpha: 1 }), 1 - smoothing), E.mulScalar(threeTokenCE(logits, [0, 1, 2], hard, u, { alpha: 0 }), smoothing));
      }
      return E.item(loss);
    });
  const [smoothed, want, plain] = [await run(true, eps), await run(false, eps), await run(true, 0)];
  expect(Math.abs(smoothed - want) / want).toBeLessThan(2e-6);
  expect(Math.abs(smoothed - plain)).toBeGreaterThan(1e-3); // the knob reaches the loss (measured: 1.1167 vs 1.1210, a difference of 0.0043)
  disposeLlama(model);
});
