// Inference frees each block's intermediates as it goes (no tape needs them); the float64 copy of a
// model (the benchmarks' reference) computes the same hidden states.
import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { makeConfig, paperLora } from '../../models/llama-config.ts';
import { addLora, disposeLlama, forwardHidden, hiddenRows, initLlama, labelLogits, llamaOnBackend } from '../../models/llama.ts';
import { sizeClass } from '../../engine/pool.ts';
import { buildBatch, type LmSeq } from '../../pipeline/train/batch.ts';

const V = 53;
const cfg = makeConfig('tiny', V, { dim: 32, nHeads: 2, nKvHeads: 1, ffnDim: 48, nLayers: 3 });
const seqs: LmSeq[] = [
  { kind: 'lm', ids: [3, 17, 5, 40, 22, 9, 31] },
  { kind: 'lm', ids: [8, 1, 50, 12] },
];

describe('Llama forward memory and float64 copy', () => {
  it('without a tape, a forward holds one block at a time and leaves only its output alive', async () => {
    const m = initLlama(cfg, 5);
    const bb = buildBatch(seqs, 0, 16);
    await E.sync();
    const live0 = E.liveBytes();
    E.resetPeak();
    const h = E.noGrad(() => forwardHidden(m, bb.batch));
    const eager = await E.read(h);
    expect(E.liveBytes() - live0).toBe(sizeClass(h.size * 4)); // every intermediate was freed
    const eagerPeak = E.peakBytes() - live0;
    h.dispose();
    // with a tape (training) every layer's activations stay for the backward: more memory, same values
    const taped = await E.scopeAsync(async () => {
      E.resetPeak();
      const y = await E.read(forwardHidden(m, bb.batch));
      return { y, peak: E.peakBytes() - live0 };
    });
    expect(Array.from(eager)).toEqual(Array.from(taped.y));
    expect(eagerPeak).toBeLessThan(taped.peak / 2);
    bb.dispose();
    disposeLlama(m);
  });

  it('llamaOnBackend(cpu) reproduces the GPU hidden states and label logits, LoRA included', async () => {
    const m = initLlama(cfg, 6);
    addLora(m, paperLora(cfg.dim), 2);
    // a trained-looking adapter: B = 0 (its initial value) would hide the LoRA branch
    m.layers.forEach((l, i) => {
      for (const ad of Object.values(l.lora)) {
        const shape = ad!.b.shape;
        ad!.b.dispose();
        ad!.b = E.keep(E.randn(shape, { seed: 90 + i, std: 0.5 }));
      }
    });
    const ref = await llamaOnBackend(m, 'cpu');
    await expect(llamaOnBackend(m, 'gpu')).rejects.toThrow(/already on the gpu backend/);
    const bb = buildBatch(seqs, 0, 16);
    const cpuBatch = { ...bb.batch, ids: await E.toBackend(bb.batch.ids, 'cpu'), positions: await E.toBackend(bb.batch.positions, 'cpu'), lengths: await E.toBackend(bb.batch.lengths, 'cpu') };
    const rows = [6, 7 + 3]; // the last real token of each sequence (T = 7)
    const got = await E.scopeAsync(async () => E.read(E.noGrad(() => labelLogits(m, hiddenRows(forwardHidden(m, bb.batch, { training: true, seed: 4 }), rows), [1, 2, 3]))));
    const want = E.noGrad(() => labelLogits(ref, hiddenRows(forwardHidden(ref, cpuBatch, { training: true, seed: 4 }), rows), [1, 2, 3]));
    expect(want.backend).toBe('cpu');
    expect(E.relErr(got, want.cpu as Float64Array)).toBeLessThan(1e-5);
    bb.dispose();
    disposeLlama(m);
    disposeLlama(ref);
  });
});
