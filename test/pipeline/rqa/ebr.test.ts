// Eq. 1 wiring of the EBR bi-encoder: training lowers the loss on a fixed batch, and the CVR weights
// change what is learnt.
import { describe, expect, it } from 'vitest';
import { item, noGrad, read, scopeAsync } from '../../../engine/index.ts';
import { disposeBiEncoder, encodeTexts, initBiEncoder } from '../../../models/bi-encoder.ts';
import { ebrLoss, trainEbr, type EbrPair } from '../../../pipeline/rqa/ebr-train.ts';

const pairs: EbrPair[] = Array.from({ length: 8 }, (_, i) => ({ query: [i + 1, 20], product: [i + 1, 30 + i], cvr: i % 2 === 0 ? 0.9 : 0.1 }));
const catalogue = pairs.map((p) => p.product);
const opts = { steps: 40, batchSize: 8, negatives: 4, lr: 0.05, temperature: 0.1, mseWeight: 1, seed: 3, quiet: true };

describe('EBR distillation (eq. 1)', () => {
  it('encodes to unit-norm rows', async () => {
    const m = initBiEncoder({ vocabSize: 50, embedDim: 8, dim: 6 }, 1);
    const v = await scopeAsync(async () => read(noGrad(() => encodeTexts(m, 'query', [[1, 2, 3], [4]]))));
    for (let r = 0; r < 2; r++) expect(Math.hypot(...v.subarray(r * 6, r * 6 + 6))).toBeCloseTo(1, 4);
    disposeBiEncoder(m);
  });

  it('training lowers the eq.-1 loss on a fixed batch', async () => {
    const m = initBiEncoder({ vocabSize: 50, embedDim: 8, dim: 8 }, 1);
    const idx = pairs.map((_, i) => i);
    const loss = () => scopeAsync(async () => item(noGrad(() => ebrLoss(m, pairs, idx, catalogue.slice(0, 4), opts))));
    const before = await loss();
    const r = await trainEbr(m, pairs, catalogue, opts);
    const after = await loss();
    expect(r.losses.length).toBeGreaterThan(0);
    expect(after).toBeLessThan(0.8 * before);
    disposeBiEncoder(m);
  });

  it('CVR weighting matters: high-CVR pairs end closer than low-CVR pairs', async () => {
    const m = initBiEncoder({ vocabSize: 50, embedDim: 8, dim: 8 }, 1);
    await trainEbr(m, pairs, catalogue, { ...opts, steps: 60 });
    const [q, p] = await scopeAsync(async () => [Float32Array.from(await read(noGrad(() => encodeTexts(m, 'query', pairs.map((x) => x.query))))), Float32Array.from(await read(noGrad(() => encodeTexts(m, 'product', pairs.map((x) => x.product)))))]);
    const s = pairs.map((_, i) => q!.subarray(i * 8, i * 8 + 8).reduce((a, x, j) => a + x * p![i * 8 + j]!, 0));
    const hi = s.filter((_, i) => pairs[i]!.cvr > 0.5);
    const lo = s.filter((_, i) => pairs[i]!.cvr < 0.5);
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    expect(mean(hi)).toBeGreaterThan(mean(lo) + 0.2);
    disposeBiEncoder(m);
  });

  it('rejects a CVR outside [0, 1] naming the pair', async () => {
    const m = initBiEncoder({ vocabSize: 50, embedDim: 8, dim: 8 }, 1);
    await expect(trainEbr(m, [{ query: [1], product: [2], cvr: 1.5 }], catalogue, opts)).rejects.toThrow(/pair 0 has CVR 1.5/);
    disposeBiEncoder(m);
  });
});
