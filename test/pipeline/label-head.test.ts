// A stage fine-tuned with the answer's own output rows (sft.labelHead) from the committed tied base:
// its checkpoint loads onto a fresh copy of the base (loadAdapters adds the label head first) and
// gives the trained model's label logits, while the LM head stays the tied embedding.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { keep, noGrad, randn, read, saveCheckpoint } from '../../engine/index.ts';
import { rng } from '../../engine/random.ts';
import { upload } from '../../engine/runtime.ts';
import { disposeLlama, labelLogits, lmLogits, namedTensors, untieLabels } from '../../models/llama.ts';
import { loadAdapters, loadBase } from '../../pipeline/stages/model-io.ts';

const BASE = join(import.meta.dirname, '../../pipeline/base/demo-tiny.ckpt');
const LABELS = [7, 8, 9] as const;

it('a full fine-tune with a label head loads onto the tied base: the same label and LM logits', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'csrm-label-head-'));
  try {
    const trained = await loadBase(BASE);
    const m = trained.model;
    untieLabels(m, LABELS);
    // stand-ins for training: the label head and one embedding row move
    const h = (await read(m.labelHead!)) as Float32Array;
    for (let i = 0; i < h.length; i++) h[i] = h[i]! + 0.01 * ((i % 7) - 3);
    upload(m.labelHead!, h);
    const e = (await read(m.embed)) as Float32Array;
    for (let i = 0; i < m.config.dim; i++) e[20 * m.config.dim + i] = e[20 * m.config.dim + i]! * 1.5;
    upload(m.embed, e);
    const path = join(dir, 'stage.ckpt');
    await saveCheckpoint(path, { config: m.config, tensors: namedTensors(m, 'base'), step: 0, meta: { provenance: { hashes: { base: trained.digest } } } });
    const rows = keep(randn([5, m.config.dim], { rng: rng(3) }));
    const want = Array.from((await read(noGrad(() => labelLogits(m, rows, LABELS)))) as Float32Array);
    const wantLm = Array.from((await read(noGrad(() => lmLogits(m, rows)))) as Float32Array);

    const fresh = await loadBase(BASE);
    expect(fresh.model.labelHead).toBeNull();
    await loadAdapters(fresh.model, path, fresh);
    expect(fresh.model.config.labelHead).toEqual([...LABELS]);
    expect(fresh.model.lmHead).toBeNull();
    expect(Array.from((await read(noGrad(() => labelLogits(fresh.model, rows, LABELS)))) as Float32Array)).toEqual(want);
    expect(Array.from((await read(noGrad(() => lmLogits(fresh.model, rows)))) as Float32Array)).toEqual(wantLm);
    // the base's own label logits differ (the label head did move)
    const tied = await loadBase(BASE);
    expect(Array.from((await read(noGrad(() => labelLogits(tied.model, rows, LABELS)))) as Float32Array)).not.toEqual(want);
    rows.dispose();
    for (const x of [m, fresh.model, tied.model]) disposeLlama(x);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
