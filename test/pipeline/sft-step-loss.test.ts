// The SFT step's loss runs relevance samples through forwardRows and LM/translation samples through
// the full forward, as two sub-batches; it must equal the loss of one mixed batch through the full
// forward (mean three-token CE over relevance rows + lmWeight × mean token CE), gradients included.
import { expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { threeTokenCE } from '../../engine/losses/index.ts';
import { makeConfig } from '../../models/llama-config.ts';
import { forwardHidden, hiddenRows, initLlama, labelLogits, lmLoss, disposeLlama, trainableParams } from '../../models/llama.ts';
import { buildBatch, type Seq } from '../../pipeline/train/batch.ts';
import { stepLoss, type SftConfig } from '../../pipeline/train/sft.ts';
import { rng } from '../util.ts';

const V = 53;
const LABELS = [4, 5, 6] as const;

it('relevance and translation samples in one step: loss and gradients equal one full forward of the mixed batch', async () => {
  const r = rng(8);
  const ids = (n: number) => Array.from({ length: n }, () => 1 + r.int(V - 1));
  const seqs: Seq[] = [
    { kind: 'relevance', ids: ids(13), hard: 2, soft: null },
    { kind: 'translation', ids: ids(19), promptLen: 9 },
    { kind: 'relevance', ids: ids(7), hard: 0, soft: null },
    { kind: 'relevance', ids: ids(21), hard: 1, soft: null },
    { kind: 'translation', ids: ids(11), promptLen: 4 },
  ];
  const cfg: SftConfig = { steps: 1, batchSize: 5, lr: 1e-3, warmup: 0, weightDecay: 0, clip: 1, alpha: 1, mtRatio: 0.4, lmWeight: 0.1, evalEvery: 10, maxLen: 24, seed: 1, groupBatches: 1 };
  const model = initLlama(makeConfig('tiny', V, { dim: 32, nHeads: 2, nKvHeads: 1, ffnDim: 48, nLayers: 2 }), 2);
  const ps = trainableParams(model);
  const run = (split: boolean) =>
    E.scopeAsync(async () => {
      E.zeroGrad(ps);
      let loss: E.Tensor;
      if (split) loss = stepLoss({ model, labelIds: LABELS, padId: 0, cfg, label: 'test' }, seqs, 0).loss;
      else {
        const bb = buildBatch(seqs, 0, cfg.maxLen);
        const h = forwardHidden(model, bb.batch, { training: true });
        const ce = threeTokenCE(labelLogits(model, hiddenRows(h, bb.answerIdx), LABELS), [0, 1, 2], E.tensor(bb.hard, [bb.hard.length], { dtype: 'i32' }), null, { alpha: 1 });
        const lm = lmLoss(model, hiddenRows(h, bb.lmIdx), E.tensor(bb.lmTargets, [bb.lmTargets.length], { dtype: 'i32' }));
        loss = E.add(ce, E.mulScalar(lm, cfg.lmWeight));
      }
      E.backward(loss);
      const out = [Float64Array.of(await E.item(loss))];
      for (const p of ps) out.push(Float64Array.from(await E.read(p.grad!)));
      E.zeroGrad(ps);
      return out;
    });
  const [got, want] = [await run(true), await run(false)];
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(E.relErr(g, want[i]!), i === 0 ? 'loss' : `gradient of parameter ${i - 1}`).toBeLessThan(2e-5));
  disposeLlama(model);
});
