// A stage fine-tuned with its own LM head (sft.untieHead) from the committed tied base: its
// checkpoint loads onto a fresh copy of the base (loadAdapters unties it first) and gives the
// trained model's logits.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { keep, noGrad, randn, read, saveCheckpoint } from '../../engine/index.ts';
import { rng } from '../../engine/random.ts';
import { upload } from '../../engine/runtime.ts';
import { disposeLlama, labelLogits, lmLogits, namedTensors, untieHead } from '../../models/llama.ts';
import { loadAdapters, loadBase } from '../../pipeline/stages/model-io.ts';

const BASE = join(import.meta.dirname, '../../pipeline/base/demo-tiny.ckpt');

it('an untied full fine-tune loads onto the tied base: the same head and label logits', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'csrm-untie-'));
  try {
    const trained = await loadBase(BASE);
    const m = trained.model;
    untieHead(m);
    // stand-in for training: the head's label rows move apart from the embedding's
    const h = (await read(m.lmHead!)) as Float32Array;
    for (let i = 0; i < 3 * m.config.dim; i++) h[i] = h[i]! + 0.01 * ((i % 7) - 3);
    upload(m.lmHead!, h);
    const path = join(dir, 'stage.ckpt');
    await saveCheckpoint(path, { config: m.config, tensors: namedTensors(m, 'base'), step: 0, meta: { provenance: { hashes: { base: trained.digest } } } });
    const rows = keep(randn([5, m.config.dim], { rng: rng(3) }));
    const want = Array.from((await read(noGrad(() => labelLogits(m, rows, [0, 1, 2])))) as Float32Array);
    const wantLm = Array.from((await read(noGrad(() => lmLogits(m, rows)))) as Float32Array);

    const fresh = await loadBase(BASE);
    expect(fresh.model.lmHead).toBeNull();
    await loadAdapters(fresh.model, path, fresh);
    expect(fresh.model.config.tieEmbeddings).toBe(false);
    expect(Array.from((await read(noGrad(() => labelLogits(fresh.model, rows, [0, 1, 2])))) as Float32Array)).toEqual(want);
    expect(Array.from((await read(noGrad(() => lmLogits(fresh.model, rows)))) as Float32Array)).toEqual(wantLm);
    // and the tied base's own logits differ in the label rows (the head did move)
    const tied = await loadBase(BASE);
    expect(Array.from((await read(noGrad(() => labelLogits(tied.model, rows, [0, 1, 2])))) as Float32Array)).not.toEqual(want);
    rows.dispose();
    for (const x of [m, fresh.model, tied.model]) disposeLlama(x);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
