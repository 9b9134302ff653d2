// forwardRows (the last layer only at one position per sequence) against the full forward's rows:
// values and every gradient, in float64 on the cpu backend and in f32 on the GPU, with GQA, LoRA,
// untied heads, ragged lengths and chosen positions that are not the last token.
import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { makeConfig } from '../../models/llama-config.ts';
import { addLora, disposeLlama, forwardHidden, forwardRows, hiddenRows, initLlama, llamaOnBackend, trainableParams, type Llama } from '../../models/llama.ts';
import { buildBatch, type RelevanceSeq } from '../../pipeline/train/batch.ts';
import { cpuBatch } from '../../bench/e2e-model.ts';
import { rng } from '../util.ts';

const V = 61;

function seqs(lens: number[], seed: number): RelevanceSeq[] {
  const r = rng(seed);
  return lens.map((n) => ({ kind: 'relevance' as const, ids: Array.from({ length: n }, () => 1 + r.int(V - 1)), hard: r.int(3), soft: null }));
}

/** Σ w ⊙ rows (a fixed random functional) and the gradient of every trainable tensor. */
async function valueAndGrads(m: Llama, batch: import('../../models/llama.ts').Batch, rows: number[], fast: boolean) {
  const ps = trainableParams(m);
  E.zeroGrad(ps);
  const backend = m.embed.backend;
  return E.scopeAsync(async () => {
    const h = fast ? forwardRows(m, batch, rows) : hiddenRows(forwardHidden(m, batch), rows);
    const w = await E.toBackend(E.randn(h.shape, { seed: 17 }), backend);
    const loss = E.sumAll(E.mul(h, w));
    E.backward(loss);
    const out = { h: Float64Array.from(await E.read(h)), grads: [] as Float64Array[] };
    // the untied head is not on the path to the hidden rows: no gradient, in both forms
    for (const p of ps) out.grads.push(p.grad ? Float64Array.from(await E.read(p.grad)) : new Float64Array(0));
    E.zeroGrad(ps);
    return out;
  });
}

describe('forwardRows', () => {
  for (const variant of ['full', 'lora'] as const) {
    it(`${variant}: equals the full forward's rows, values and gradients (float64 and f32)`, async () => {
      // 3 layers, GQA (4 query heads on 2 kv heads), untied head: nothing of the shortcut's shape is a default
      const m = initLlama(makeConfig('tiny', V, { dim: 64, nHeads: 4, nKvHeads: 2, ffnDim: 72, nLayers: 3, tieEmbeddings: false }), 3);
      if (variant === 'lora') addLora(m, { r: 4, alpha: 8, dropout: 0, targets: ['q', 'k', 'v', 'o', 'down'] }, 4);
      const ss = seqs([9, 23, 1, 17, 23], 5);
      const bb = buildBatch(ss, 0, 32);
      const T = bb.batch.T;
      // the last token of most sequences, a middle one of one (a position that is not the end)
      const rows = ss.map((s, b) => b * T + (b === 3 ? 6 : s.ids.length - 1));
      const ref = await llamaOnBackend(m, 'cpu');
      const cb = await cpuBatch(ss, 0, 32);
      for (const [model, batch, tol] of [[ref, cb.batch, 1e-12], [m, bb.batch, 2e-5]] as const) {
        const want = await valueAndGrads(model, batch, rows, false);
        const got = await valueAndGrads(model, batch, rows, true);
        const name = model === ref ? 'float64' : 'f32';
        expect(E.relErr(got.h, want.h), `${name} hidden rows`).toBeLessThan(tol);
        expect(got.grads.length).toBe(want.grads.length);
        got.grads.forEach((g, i) => expect(E.relErr(g, want.grads[i]!), `${name} gradient ${i}`).toBeLessThan(tol));
        // the gradients are not all zero (the check compares something)
        expect(Math.max(...want.grads.map((g) => Math.max(...g.map(Math.abs))))).toBeGreaterThan(1e-4);
      }
      bb.dispose();
      disposeLlama(m);
      disposeLlama(ref);
    });
  }

  it('rejects a row count other than one per sequence and a row outside its sequence', async () => {
    const m = initLlama(makeConfig('tiny', V, { dim: 32, nHeads: 2, nKvHeads: 1, ffnDim: 48, nLayers: 1 }), 1);
    const bb = buildBatch(seqs([4, 6], 1), 0, 8);
    expect(() => E.noGrad(() => forwardRows(m, bb.batch, [3]))).toThrow(/1 rows for a batch of 2 sequences/);
    expect(() => E.noGrad(() => forwardRows(m, bb.batch, [3, 2]))).toThrow(/row 2 of sequence 1 is outside its positions \[6, 12\)/);
    bb.dispose();
    disposeLlama(m);
  });
});
