// One row of the README's lever table: Stage-1 fine-tuning on the source market's training labels
// from a base model, chosen on the source dev set (the same runSft path as `csrm sft`), then the
// zero-shot target dev F1 and optionally a short Stage 2 (source + target labels, target upsampled)
// scored on the target dev set. Prints one JSON line. Never touches a test set.
//
//   npx tsx scripts/lever-run.ts --data runs/demo/data --base pipeline/base/demo-tiny.ckpt \
//     [--steps 2400] [--lr 0.0015] [--warmup 50] [--hold 0] [--batch 16] [--seed 11] [--stage2 333] [--target-share 0.5] [--tag NAME]
// The warm-up is min(--warmup, 10% of a stage's steps), as the config's warmupMax/warmupShare make it.
// Also: [--eval-every 200] [--intents] (accuracy of the last Stage-1 weights by query intent, on the
// first 1,500 training samples against their clean labels and on the source dev set: under- or
// overfitting?) [--random-init '{"nHeads":2,…}'] (the tiny preset with these overrides from random
// weights instead of the base; the base still supplies the tokenizer) [--rope-theta X] (the base's
// RoPE base replaced for fine-tuning) [--ema DECAY] (weight averaging: evaluations score the average)
// [--wd X] [--decay-on all|matrices] (AdamW weight decay and what it applies to; default 0.01 on all)
// [--label-head] (sft.labelHead: the answer's own output rows, copied from the head's label rows) [--smooth E] (label smoothing: eq. 2 with a uniform soft triple at α = 1 − E) [--dump FILE] (the
// last weights' source-dev predictions with the records, for error analysis).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initEngine, manualSeed, shutdownGpu } from '../engine/index.ts';
import { evaluate } from '../pipeline/eval/metrics.ts';
import { loadMarketData } from '../pipeline/stages/market-data.ts';
import { loadBase, loadBaseTokenizer, readBase } from '../pipeline/stages/model-io.ts';
import { encodeAll, upsampleTarget } from '../pipeline/stages/sft-stage.ts';
import { runSft, type SftConfig } from '../pipeline/train/sft.ts';
import { scoreSeqs } from '../pipeline/train/score.ts';
import { initLlama, untieLabels } from '../models/llama.ts';
import { makeConfig, validateConfig, type LlamaConfig } from '../models/llama-config.ts';

const { values: a } = parseArgs({
  options: {
    data: { type: 'string' }, base: { type: 'string' }, steps: { type: 'string', default: '2400' }, lr: { type: 'string', default: '0.0015' },
    batch: { type: 'string', default: '16' }, seed: { type: 'string', default: '11' }, stage2: { type: 'string', default: '0' },
    'target-share': { type: 'string', default: '0.5' }, warmup: { type: 'string', default: '50' }, hold: { type: 'string', default: '0' },
    'eval-every': { type: 'string', default: '200' }, intents: { type: 'boolean', default: false }, 'random-init': { type: 'string' }, 'rope-theta': { type: 'string' }, 'max-len': { type: 'string', default: '112' }, ema: { type: 'string' }, wd: { type: 'string', default: '0.01' }, 'decay-on': { type: 'string', default: 'all' }, smooth: { type: 'string', default: '0' }, dump: { type: 'string' }, 'label-head': { type: 'boolean', default: false }, tag: { type: 'string', default: '' },
  },
});
if (!a.data || !a.base) throw new Error('usage: scripts/lever-run.ts --data MARKET_DIR --base BASE.ckpt [--steps N] [--lr X] [--stage2 N] …');
const num = (k: keyof typeof a) => {
  const v = Number(a[k]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${k} ${a[k]}: expected a non-negative number`);
  return v;
};

await initEngine();
const seed = num('seed');
manualSeed(seed);
const info = await readBase(a.base);
const tok = await loadBaseTokenizer(info);
const data = await loadMarketData(a.data);
const [src, tgt] = [data.source, data.target];
const maxLen = num('max-len');
const enc = (recs: Parameters<typeof encodeAll>[1]) => encodeAll(tok, recs, maxLen, null);
const smoothed = <T extends { soft: [number, number, number] | null }>(xs: T[]) => (num('smooth') > 0 ? xs.map((x) => ({ ...x, soft: [1 / 3, 1 / 3, 1 / 3] as [number, number, number] })) : xs);
const train = smoothed(enc(data.relevance[src]!.train)), dev = enc(data.relevance[src]!.dev), tgtDev = enc(data.relevance[tgt]!.dev);
const model = a['random-init'] !== undefined ? initLlama(makeConfig('tiny', tok.vocabSize, JSON.parse(a['random-init']) as Partial<LlamaConfig>), seed) : (await loadBase(a.base)).model;
if (a['rope-theta'] !== undefined) model.config = validateConfig({ ...model.config, ropeTheta: num('rope-theta') });
if (a['label-head']) untieLabels(model, tok.labelTokenIds); // sft.labelHead
const steps = num('steps');
const cfg: SftConfig = { steps, batchSize: num('batch'), lr: num('lr'), warmup: Math.min(num('warmup'), Math.floor(steps / 10)), ...(num('hold') > 0 ? { lrHold: num('hold') } : {}), ...(a.ema !== undefined ? { ema: num('ema') } : {}), weightDecay: num('wd'), decayOn: a['decay-on'] as 'all' | 'matrices', clip: 1, alpha: 1 - num('smooth'), mtRatio: 0, lmWeight: 0.1, evalEvery: num('eval-every'), maxLen, seed, groupBatches: 8 };
const dir = mkdtempSync(join(tmpdir(), 'csrm-lever-'));
for (const d of ['s1', 's2']) mkdirSync(join(dir, d));
const f1 = async (set: typeof dev) => {
  const p = await scoreSeqs(model, set, tok.labelTokenIds, tok.pad, maxLen);
  return evaluate(set.map((d) => d.hard), p.map((t) => t.indexOf(Math.max(...t)))).microF1;
};
/** Accuracy by query intent of the model as it is now, against clean labels (true_label). */
async function byIntent(): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [name, recs] of [['train', data.relevance[src]!.train.slice(0, 1500)], ['dev', data.relevance[src]!.dev]] as const) {
    const p = await scoreSeqs(model, enc(recs), tok.labelTokenIds, tok.pad, maxLen);
    const by: Record<string, [number, number]> = {};
    let ok = 0;
    recs.forEach((r, i) => {
      const right = p[i]!.indexOf(Math.max(...p[i]!)) === (r.true_label ?? r.label);
      const k = r.intent ?? 'all';
      by[k] ??= [0, 0];
      by[k][0]++;
      if (right) (by[k][1]++, ok++);
    });
    out[name] = { all: +(ok / recs.length).toFixed(3), ...Object.fromEntries(Object.entries(by).map(([k, [n, r]]) => [k, +(r / n).toFixed(2)])) };
  }
  return out;
}

try {
  const t0 = performance.now();
  const s1 = await runSft({ model, labelIds: tok.labelTokenIds, padId: tok.pad, relevance: train, translation: [], dev, cfg, dir: join(dir, 's1'), label: 'stage 1', quiet: true });
  const zeroShot = await f1(tgtDev);
  let stage2: { best: number; curve: number[][] } | null = null;
  const s2steps = num('stage2');
  if (s2steps > 0) {
    // continues the last Stage-1 weights, as the lever runs did (the method continues the best checkpoint)
    const mixed = smoothed(enc(upsampleTarget([...data.relevance[src]!.train, ...data.relevance[tgt]!.train], tgt, num('target-share'))));
    const r = await runSft({ model, labelIds: tok.labelTokenIds, padId: tok.pad, relevance: mixed, translation: [], dev: tgtDev, cfg: { ...cfg, steps: s2steps, warmup: Math.min(num('warmup'), Math.floor(s2steps / 10)), evalEvery: 50 }, dir: join(dir, 's2'), label: 'stage 2', quiet: true });
    stage2 = { best: r.bestDevF1, curve: r.history.filter((h) => h.devF1 !== undefined).map((h) => [h.step, +h.devF1!.toFixed(3)]) };
  }
  const intents = a.intents ? await byIntent() : undefined;
  if (a.dump) {
    // the last weights' dev predictions, for error analysis (never a test set)
    const recs = data.relevance[src]!.dev;
    const p = await scoreSeqs(model, dev, tok.labelTokenIds, tok.pad, maxLen);
    writeFileSync(a.dump, recs.map((r, i) => JSON.stringify({ ...r, p: p[i]!.map((x) => +x.toFixed(4)) })).join('\n') + '\n');
  }
  const curve = s1.history.filter((h) => h.devF1 !== undefined).map((h) => [h.step, +h.devF1!.toFixed(3)]);
  console.log(JSON.stringify({ tag: a.tag, base: a.base, steps, lr: cfg.lr, sourceDevBest: s1.bestDevF1, bestStep: s1.bestStep, curve, targetDevZeroShot: +zeroShot.toFixed(3), stage2, seconds: Math.round((performance.now() - t0) / 1000), tokensPerSec: Math.round(s1.tokensPerSec), ...(intents ? { intents } : {}) }));
} finally {
  rmSync(dir, { recursive: true, force: true });
  await shutdownGpu();
}
