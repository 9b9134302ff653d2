import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backward, keep, liveBytes, noGrad, randn, read, relErr, scopeAsync, sync, tensor, zeroGrad } from '../../engine/index.ts';
import { rng } from '../../engine/random.ts';
import { lmCrossEntropy } from '../../engine/losses/index.ts';
import { makeConfig, paperLora, paramCounts } from '../../models/llama-config.ts';
import { generateGreedy } from '../../models/generate.ts';
import { addLora, baseParams, disposeLlama, trainableParams, noDecayParams, untieLabels, labelLogits, forwardHidden, initLlama, lmLogits, lmLoss, loraParams, namedTensors, trainableReport, type Llama } from '../../models/llama.ts';
import { buildBatch, type LmSeq } from '../../pipeline/train/batch.ts';
import { runSft, sftStep, stepLoss, type SftConfig } from '../../pipeline/train/sft.ts';
import { adamw, item } from '../../engine/index.ts';
import { bindGroupStats } from '../../engine/bind-groups.ts';

const V = 40;
const corpus: LmSeq[] = [
  // each sequence is determined by its first token, so the loss can approach zero
  [5, 9, 13, 17, 21, 25, 29, 33, 37, 2],
  [6, 10, 14, 18, 22, 26, 30, 34, 2],
  [7, 11, 15, 19, 23, 27, 31, 2],
  [8, 12, 16, 20, 24, 28, 2],
].map((ids) => ({ kind: 'lm' as const, ids }));

function cfg(steps: number, over: Partial<SftConfig> = {}): SftConfig {
  return { steps, batchSize: 4, lr: 1e-2, warmup: 5, weightDecay: 0, clip: 1, alpha: 1, mtRatio: 0, lmWeight: 1, evalEvery: 1000, maxLen: 16, seed: 3, groupBatches: 1, ...over };
}

function tinyModel(seed = 1): Llama {
  return initLlama(makeConfig('tiny', V, { dim: 32, nHeads: 2, nKvHeads: 1, ffnDim: 64, nLayers: 2 }), seed);
}

async function snapshot(ts: Record<string, import('../../engine/index.ts').Tensor>): Promise<Record<string, Float32Array>> {
  const out: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(ts)) out[k] = (await read(t)) as Float32Array;
  return out;
}

const tmp = () => mkdtempSync(join(tmpdir(), 'csrm-llama-'));

async function hiddenOf(m: Llama, seqs: LmSeq[]): Promise<Float32Array> {
  return scopeAsync(async () => (await read(noGrad(() => forwardHidden(m, buildBatch(seqs, 0, 16).batch)))) as Float32Array);
}

describe('Llama decoder', () => {
  it('overfits a small fixed corpus (loss < 0.1), deterministically for a seed', async () => {
    const losses: number[] = [];
    for (let run = 0; run < 2; run++) {
      const m = tinyModel();
      const dir = tmp();
      const r = await runSft({ model: m, labelIds: [0, 1, 2], padId: 0, relevance: [], translation: [], lm: corpus, dev: [], cfg: cfg(200), dir, label: 'overfit', quiet: true });
      losses.push(r.history.filter((h) => Number.isFinite(h.loss)).at(-1)!.loss);
      disposeLlama(m);
      rmSync(dir, { recursive: true });
    }
    expect(losses[0]).toBeLessThan(0.1);
    expect(losses[1]).toBe(losses[0]);
  });

  it('after its first two steps (AdamW\'s state is made in the first) a training step makes no bind group anew: the pool hands it the same buffers every step', async () => {
    // a stack pool (last freed, first reused) permuted them: 57–59 of the demo step's 189 bind groups were made every step
    const m = tinyModel(2);
    const params = trainableParams(m);
    const c = cfg(100);
    const opt = adamw(params, { lr: c.lr, weightDecay: c.weightDecay });
    const inp = { model: m, labelIds: [0, 1, 2] as const, padId: 0, cfg: c, label: 'reuse' };
    const made: number[] = [];
    const reused: number[] = [];
    for (let step = 0; step < 6; step++) {
      const before = bindGroupStats().misses;
      const hitsBefore = bindGroupStats().hits;
      await scopeAsync(async () => {
        const s = await sftStep(inp, params, opt, corpus, step);
        await item(s.loss);
        s.dispose();
      });
      made.push(bindGroupStats().misses - before);
      reused.push(bindGroupStats().hits - hitsBefore);
    }
    expect(made.slice(2)).toEqual([0, 0, 0, 0]);
    // every launch of the step finds its bind group, the same count each step (measured 2026-12-06: 209)
    expect(reused.slice(2)).toEqual([reused[2], reused[2], reused[2], reused[2]]);
    expect(reused[2]).toBeGreaterThan(200);
    opt.dispose();
    zeroGrad(params);
    disposeLlama(m);
  });

  it('logs the gradient norm before clipping with each logged loss: at step 0, the float64 L2 norm of that batch\'s read gradients', async () => {
    // clip 1e-3 binds (the norm is 1.515): what is logged must be the norm before the scale
    const m = tinyModel(4);
    const dir = tmp();
    const c = cfg(1, { clip: 1e-3 });
    const r = await runSft({ model: m, labelIds: [0, 1, 2], padId: 0, relevance: [], translation: [], lm: corpus, dev: [], cfg: c, dir, label: 'norm', quiet: true });
    disposeLlama(m);
    rmSync(dir, { recursive: true });
    const logged = r.history[0]!.gradNorm!;
    // the same model, the same batch (the whole corpus: the mean loss does not depend on its order)
    const m2 = tinyModel(4);
    const ps = trainableParams(m2);
    const sumsq = await scopeAsync(async () => {
      zeroGrad(ps);
      backward(stepLoss({ model: m2, labelIds: [0, 1, 2], padId: 0, cfg: c, label: 'norm' }, corpus, 0).loss);
      let s = 0;
      for (const p of ps) for (const g of (await read(p.grad!)) as Float32Array) s += g * g;
      return s;
    });
    disposeLlama(m2);
    expect(logged).toBeGreaterThan(1); // measured 1.515: clip 1e-3 binds
    expect(Math.abs(logged - Math.sqrt(sumsq)) / Math.sqrt(sumsq)).toBeLessThan(1e-4); // measured 8.4e-8
  });

  it('SftConfig.beta2 reaches AdamW: the same run with β2 0.95 ends on other weights; absent, the run is bit for bit the one with 0.999', async () => {
    const ends: Float32Array[] = [];
    for (const over of [{}, { beta2: 0.999 }, { beta2: 0.95 }]) {
      const m = tinyModel(5);
      const dir = tmp();
      await runSft({ model: m, labelIds: [0, 1, 2], padId: 0, relevance: [], translation: [], lm: corpus, dev: [], cfg: cfg(12, over), dir, label: 'beta2', quiet: true });
      ends.push((await read(m.layers[0]!.wq)) as Float32Array);
      disposeLlama(m);
      rmSync(dir, { recursive: true });
    }
    expect(Array.from(ends[1]!)).toEqual(Array.from(ends[0]!));
    expect(ends[2]!.some((v, i) => v !== ends[0]![i])).toBe(true);
  });

  it('a frozen token table (requiresGrad off, sft.freezeEmbeddings) stays bit-identical through full fine-tuning while the rest trains; the report counts it out', async () => {
    const m = tinyModel(6);
    const full = trainableReport(m).trainable;
    m.embed.requiresGrad = false;
    expect(trainableReport(m).trainable).toBe(full - m.embed.size);
    const e0 = (await read(m.embed)) as Float32Array;
    const q0 = (await read(m.layers[0]!.wq)) as Float32Array;
    const dir = tmp();
    // weight decay on: a frozen table must not even decay
    await runSft({ model: m, labelIds: [0, 1, 2], padId: 0, relevance: [], translation: [], lm: corpus, dev: [], cfg: cfg(8, { weightDecay: 0.5 }), dir, label: 'frozen', quiet: true });
    expect(Array.from((await read(m.embed)) as Float32Array)).toEqual(Array.from(e0));
    expect(((await read(m.layers[0]!.wq)) as Float32Array).some((v, i) => v !== q0[i])).toBe(true);
    disposeLlama(m);
    rmSync(dir, { recursive: true });
  });

  it('decayOn "matrices": rows of the token table the stream never uses stay bit-identical; with "all" they shrink by Π(1 − lr·wd)', async () => {
    // a relevance stream over tokens 3…12 (labels 0, 1, 2): rows 13… have no gradient, as the other
    // market's words have in a one-market Stage 1
    const rel = Array.from({ length: 12 }, (_, i) => ({ kind: 'relevance' as const, ids: [3 + (i % 5), 8 + (i % 4), 12, 1], hard: i % 3, soft: null }));
    const rows: Record<string, Float32Array> = {};
    for (const decayOn of ['matrices', 'all'] as const) {
      const m = tinyModel(8);
      const e0 = (await read(m.embed)) as Float32Array;
      const dim = m.config.dim;
      expect(noDecayParams(m)).toContain(m.embed);
      const dir = tmp();
      await runSft({ model: m, labelIds: [0, 1, 2], padId: 0, relevance: rel, translation: [], dev: [], cfg: cfg(6, { weightDecay: 0.5, decayOn, lr: 0.05, warmup: 0 }), dir, label: decayOn, quiet: true });
      const e1 = (await read(m.embed)) as Float32Array;
      const unused = e1.subarray(20 * dim, V * dim), unused0 = e0.subarray(20 * dim, V * dim);
      if (decayOn === 'matrices') expect(Array.from(unused)).toEqual(Array.from(unused0));
      else {
        const ratio = unused[0]! / unused0[0]!;
        expect(ratio).toBeLessThan(0.95); // six steps at lr ≤ 0.05, wd 0.5: ≈ 0.91
        for (let i = 0; i < unused.length; i++) expect(unused[i]! / unused0[i]!).toBeCloseTo(ratio, 4);
      }
      rows[decayOn] = (await read(m.layers[0]!.wq)) as Float32Array;
      disposeLlama(m);
      rmSync(dir, { recursive: true });
    }
    // the matrices decay under both settings, so they differ only through the embedding's path
    expect(rows.matrices!.some((v, i) => v !== rows.all![i])).toBe(true);
  });

  it('untieLabels: the same label logits at once; then relevance training moves the label head, not the input rows of the label tokens; the LM head stays tied', async () => {
    const m = tinyModel(9);
    const rows = keep(randn([4, m.config.dim], { rng: rng(5) }));
    const labels = [0, 1, 2] as const;
    const before = Array.from((await read(noGrad(() => labelLogits(m, rows, labels)))) as Float32Array);
    untieLabels(m, labels);
    expect(m.config.labelHead).toEqual([0, 1, 2]);
    expect(m.lmHead).toBeNull();
    expect(baseParams(m)).toContain(m.labelHead);
    expect(Array.from((await read(noGrad(() => labelLogits(m, rows, labels)))) as Float32Array)).toEqual(before);
    expect(() => labelLogits(m, rows, [0, 2, 1])).toThrow(/label head answers with tokens 0, 1, 2/);
    expect(() => untieLabels(m, labels)).toThrow(/already has its own label head/);
    const e0 = (await read(m.embed)) as Float32Array;
    const h0 = (await read(m.labelHead!)) as Float32Array;
    // prompts over tokens 4…12, answers 0, 1, 2: the label tokens never appear in a prompt
    const rel = Array.from({ length: 12 }, (_, i) => ({ kind: 'relevance' as const, ids: [5 + (i % 5), 9 + (i % 4), 4], hard: i % 3, soft: null }));
    const dir = tmp();
    await runSft({ model: m, labelIds: [0, 1, 2], padId: 3, relevance: rel, translation: [], dev: [], cfg: cfg(5, { lr: 0.05, warmup: 0 }), dir, label: 'label-head', quiet: true });
    const e1 = (await read(m.embed)) as Float32Array, h1 = (await read(m.labelHead!)) as Float32Array;
    const d = m.config.dim;
    const row = (a: Float32Array, t: number) => Array.from(a.subarray(t * d, (t + 1) * d));
    for (const t of [0, 1, 2]) {
      expect(row(e1, t), `input row ${t}`).toEqual(row(e0, t)); // no gradient, no decay (cfg: weightDecay 0)
      expect(row(h1, t).some((v, k) => v !== row(h0, t)[k]), `label-head row ${t}`).toBe(true);
    }
    expect(row(e1, 5).some((v, k) => v !== row(e0, 5)[k]), 'a prompt token\'s input row').toBe(true);
    rmSync(dir, { recursive: true });
    rows.dispose();
    disposeLlama(m);
  });

  it('untieLabels refuses a model with LoRA adapters', () => {
    const m = tinyModel(10);
    addLora(m, { r: 2, alpha: 4, dropout: 0, targets: ['q'] }, 1);
    expect(() => untieLabels(m, [0, 1, 2])).toThrow(/LoRA/);
    disposeLlama(m);
  });

  it('LoRA at initialisation leaves the output unchanged; training changes only A and B', async () => {
    const m = tinyModel(4);
    const before = await hiddenOf(m, corpus);
    addLora(m, { r: 4, alpha: 8, dropout: 0.1, targets: ['q', 'k', 'v'] }, 9);
    expect(Array.from(await hiddenOf(m, corpus))).toEqual(Array.from(before));
    const base0 = await snapshot(namedTensors(m, 'base'));
    const lora0 = await snapshot(namedTensors(m, 'lora'));
    const dir = tmp();
    await runSft({ model: m, labelIds: [0, 1, 2], padId: 0, relevance: [], translation: [], lm: corpus, dev: [], cfg: cfg(10), dir, label: 'lora', quiet: true });
    const base1 = await snapshot(namedTensors(m, 'base'));
    const lora1 = await snapshot(namedTensors(m, 'lora'));
    for (const k of Object.keys(base0)) expect(Buffer.from(base1[k]!.buffer).equals(Buffer.from(base0[k]!.buffer))).toBe(true);
    const changed = Object.keys(lora0).filter((k) => k.endsWith('lora_B.weight')).filter((k) => lora1[k]!.some((v, i) => v !== lora0[k]![i]));
    expect(changed.length).toBeGreaterThan(0);
    expect(baseParams(m).every((p) => p.grad === null)).toBe(true);
    disposeLlama(m);
    rmSync(dir, { recursive: true });
  });

  for (const ema of [undefined, 0.7]) it(`a run killed after a checkpoint and resumed reaches the same weights as an uninterrupted run${ema ? ' (with a weight average, which the run ends on)' : ''}`, async () => {
    const cfgE = (steps: number, over: Partial<SftConfig> = {}) => cfg(steps, { ...over, ...(ema ? { ema } : {}) });
    const full = tinyModel(6);
    const d1 = tmp();
    await runSft({ model: full, labelIds: [0, 1, 2], padId: 0, relevance: [], translation: [], lm: corpus, dev: [], cfg: cfgE(12, { evalEvery: 4 }), dir: d1, label: 'full', quiet: true });
    const want = await snapshot(namedTensors(full, 'base'));
    // killed at step 10 (its last checkpoint is step 8), then a fresh process resumes from the folder
    const part = tinyModel(6);
    const d2 = tmp();
    await runSft({ model: part, labelIds: [0, 1, 2], padId: 0, relevance: [], translation: [], lm: corpus, dev: [], cfg: cfgE(12, { evalEvery: 4 }), dir: d2, label: 'part', quiet: true, stopAfter: 10 });
    disposeLlama(part);
    const resumed = tinyModel(6);
    await runSft({ model: resumed, labelIds: [0, 1, 2], padId: 0, relevance: [], translation: [], lm: corpus, dev: [], cfg: cfgE(12, { evalEvery: 4 }), dir: d2, label: 'resumed', quiet: true });
    const got = await snapshot(namedTensors(resumed, 'base'));
    for (const k of Object.keys(want)) expect(Array.from(got[k]!)).toEqual(Array.from(want[k]!));
    disposeLlama(full);
    disposeLlama(resumed);
    rmSync(d1, { recursive: true });
    rmSync(d2, { recursive: true });
  });

  it('greedy generation with a KV cache equals generation without it', async () => {
    const m = tinyModel(8);
    const dir = tmp();
    await runSft({ model: m, labelIds: [0, 1, 2], padId: 0, relevance: [], translation: [], lm: corpus, dev: [], cfg: cfg(60), dir, label: 'gen', quiet: true });
    const live = liveBytes();
    const a = await generateGreedy(m, [5, 9], 8, 2, { useCache: true });
    const b = await generateGreedy(m, [5, 9], 8, 2, { useCache: false });
    await sync();
    expect(a).toEqual(b);
    expect(a.slice(0, 3)).toEqual([13, 17, 21]); // it learned the sequence
    expect(liveBytes()).toBe(live);
    disposeLlama(m);
    rmSync(dir, { recursive: true });
  });

  it('lmLoss (the fused LM head) equals lmCrossEntropy of lmLogits: loss and gradients, tied and untied heads, f32 and mixed precision', async () => {
    for (const tie of [true, false]) {
      const m = initLlama(makeConfig('tiny', V, { dim: 32, nHeads: 2, nKvHeads: 1, ffnDim: 64, nLayers: 1, tieEmbeddings: tie }), 5);
      const head = m.lmHead ?? m.embed;
      for (const precision of ['f32', 'mixed-f16'] as const) {
        const run = (fused: boolean) =>
          scopeAsync(async () => {
            const rows = randn([13, 32], { seed: 9, requiresGrad: true });
            const targets = tensor([3, -100, 39, 0, 7, 7, 12, -100, 30, 1, 2, 38, 21], [13], { dtype: 'i32' });
            const l = fused ? lmLoss(m, rows, targets, {}, precision) : lmCrossEntropy(lmLogits(m, rows, precision), targets);
            backward(l);
            const out = [Float64Array.of((await read(l))[0]!), Float64Array.from(await read(rows.grad!)), Float64Array.from(await read(head.grad!))];
            zeroGrad([rows, head]);
            return out;
          });
        const [a, b] = [await run(true), await run(false)];
        a.forEach((x, i) => expect(relErr(x, b[i]!), `tied ${tie} ${precision} output ${i}`).toBeLessThan(precision === 'f32' ? 1e-5 : 1e-3));
      }
      disposeLlama(m);
    }
  });

  it('reports trainable parameters and their share like the paper', () => {
    const c = makeConfig('small', 3000);
    const m = initLlama(c, 1);
    addLora(m, paperLora(c.dim), 2);
    const rep = trainableReport(m);
    const counts = paramCounts(m.config);
    expect(rep.trainable).toBe(loraParams(m).reduce((s, t) => s + t.size, 0));
    expect(rep.total).toBe(counts.base + counts.lora);
    expect(counts.base).toBe(baseParams(m).reduce((s, t) => s + t.size, 0));
    expect(rep.share).toBeGreaterThan(0);
    expect(rep.share).toBeLessThan(0.05);
    disposeLlama(m);
  });

  it('rejects an invalid configuration with the reason', () => {
    expect(() => makeConfig('tiny', 100, { dim: 60, nHeads: 4 })).toThrow(/head dim 15/);
    expect(() => makeConfig('tiny', 100, { nKvHeads: 3 })).toThrow(/not a multiple of nKvHeads 3/);
  });
});
