// One Stage-2 row of the README's lever table: Stage 2 (source + target labels, the target
// upsampled, the translation task as the stage table has it) continued from a finished Stage-1
// model of a run, with the config's sft section and these overrides, scored on the dev sets only.
// Prints one JSON line: the dev curve (target dev, source dev) at every evaluation, the step each
// selection rule would pick and the target dev F1 there, and the last weights' target dev accuracy
// by query intent. Never touches a test set.
//
//   npx tsx scripts/stage2-lever.ts --run runs/s11 --data runs/demo/data --base pipeline/base/demo-tiny.ckpt \
//     --config demo [--from stage1-sft-mt] [--set warmSteps=1600 --set warmLr=0.0006 …] [--no-mt] [--tag NAME] [--clean-target] [--freeze embed --freeze layer0 …]
// --freeze keeps a part of the Stage-1 model as it is through Stage 2: `embed` (the token table, and with
// it the tied LM head) or `layerN` (every tensor of decoder layer N); the rest trains.
// --soup K also trains K − 1 more Stage-2 runs from the same Stage-1 model on other streams (sft seed
// + k) and scores the uniform average of the K runs' last weights (a model soup, Wortsman et al. 2022).
// --set KEY=VALUE overrides one knob of the sft section (checked as the config loader checks it).
// --clean-target is a diagnostic, never a recipe: the target's training records carry the generator's
// clean labels instead of the noisy ones the method sees, so a run measures what the target labels'
// noise costs Stage 2 (the room self-distillation has, section 3.4).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initEngine, manualSeed, shutdownGpu, toArray, type HostTensor } from '../engine/index.ts';
import { loadTensorsInto } from '../engine/checkpoint.ts';
import { trainedTensors } from '../pipeline/train/state.ts';
import { evaluate } from '../pipeline/eval/metrics.ts';
import { loadConfig, resolveSft, type SftSettings } from '../pipeline/stages/config.ts';
import { codeSwitchSource } from '../pipeline/stages/code-switch.ts';
import { isTwin } from '../pipeline/stages/translated-twins.ts';
import { encodeRelevance, encodeTranslation } from '../pipeline/stages/encode.ts';
import { loadMarketData } from '../pipeline/stages/market-data.ts';
import { loadAdapters, loadBase, loadBaseTokenizer, readBase } from '../pipeline/stages/model-io.ts';
import { sftLoopConfig, stageTrainRecords, upsampleTarget } from '../pipeline/stages/sft-stage.ts';
import type { RelevanceSeq, TranslationSeq } from '../pipeline/train/batch.ts';
import { scoreSeqs } from '../pipeline/train/score.ts';
import { runSft } from '../pipeline/train/sft.ts';

const { values: a } = parseArgs({
  options: {
    run: { type: 'string' }, data: { type: 'string' }, base: { type: 'string' }, config: { type: 'string', default: 'demo' },
    from: { type: 'string', default: 'stage1-sft-mt' }, set: { type: 'string', multiple: true, default: [] }, 'no-mt': { type: 'boolean', default: false }, 'clean-target': { type: 'boolean', default: false }, freeze: { type: 'string', multiple: true, default: [] }, soup: { type: 'string', default: '1' }, tag: { type: 'string', default: '' },
  },
});
if (!a.run || !a.data || !a.base) throw new Error('usage: scripts/stage2-lever.ts --run DIR --data MARKET_DIR --base BASE.ckpt [--config demo] [--from STAGE] [--set KEY=VALUE …] [--no-mt]');
const raw: Record<string, unknown> = { ...loadConfig(a.config).sft };
for (const kv of a.set) {
  const i = kv.indexOf('=');
  if (i < 1) throw new Error(`--set ${kv}: expected KEY=VALUE`);
  raw[kv.slice(0, i)] = JSON.parse(kv.slice(i + 1));
}
const s: SftSettings = resolveSft(raw as Partial<SftSettings>, (why) => { throw new Error(`--set: ${why}`); });

await initEngine();
manualSeed(s.seed);
const info = await readBase(a.base);
const tok = await loadBaseTokenizer(info);
const data = await loadMarketData(a.data);
const enc = (recs: Parameters<typeof encodeRelevance>[1][]): RelevanceSeq[] => recs.map((r) => encodeRelevance(tok, { ...r, rqa: [] }, s.maxLen, null));
const mt = !a['no-mt'];
const clean = (recs: ReturnType<typeof stageTrainRecords>) => recs.map((r) => {
  if (!a['clean-target'] || r.market !== data.target || isTwin(r)) return r;
  if (r.true_label === -1) throw new Error(`--clean-target: ${r.query_id}/${r.product_id} has no generator truth (true_label -1)`);
  return { ...r, label: r.true_label };
});
const train = enc(upsampleTarget(codeSwitchSource(clean(stageTrainRecords(data, 2, 1, s.seed, s.translatedTwins)), data.source, data.translations, s.codeSwitch, s.seed), data.target, s.targetShare ?? undefined, s.twinsSide));
const tgtDev = enc(data.relevance[data.target]!.dev), srcDev = enc(data.relevance[data.source]!.dev);
const translation = mt ? data.translations.map((t) => encodeTranslation(tok, t, s.maxLen)).filter((x): x is TranslationSeq => x !== null) : [];
const base = await loadBase(a.base);
const model = base.model;
await loadAdapters(model, join(a.run, a.from, 'best.ckpt'), base);
for (const f of a.freeze) {
  const layer = /^layer(\d+)$/.exec(f);
  if (f === 'embed') model.embed.requiresGrad = false;
  else if (layer && model.layers[+layer[1]!]) for (const n of ['attnNorm', 'wq', 'wk', 'wv', 'wo', 'mlpNorm', 'wGate', 'wUp', 'wDown'] as const) model.layers[+layer[1]!]![n].requiresGrad = false;
  else throw new Error(`--freeze ${f}: expected embed or layerN with N < ${model.layers.length}`);
}
const cfg = sftLoopConfig(s, { init: true, mt, alpha: 1 });
const dir = mkdtempSync(join(tmpdir(), 'csrm-s2-'));
const f1 = async (set: RelevanceSeq[]) => {
  const p = await scoreSeqs(model, set, tok.labelTokenIds, tok.pad, s.maxLen);
  return evaluate(set.map((d) => d.hard), p.map((t) => t.indexOf(Math.max(...t)))).microF1;
};
try {
  const t0 = performance.now();
  // the curve: evaluations every evalEvery steps on both dev sets (runSft itself selects on the target dev set here)
  const curve: [number, number, number][] = [[0, +(await f1(tgtDev)).toFixed(4), +(await f1(srcDev)).toFixed(4)]];
  const chunks: number[] = [];
  for (let k = s.evalEvery; k < cfg.steps; k += s.evalEvery) chunks.push(k);
  chunks.push(cfg.steps);
  // one run of the stage's schedule: the loop stops at each evaluation point (it checkpoints there) and resumes
  for (const stop of chunks) {
    await runSft({ model, labelIds: tok.labelTokenIds, padId: tok.pad, relevance: train, translation, dev: [], cfg, dir, label: 'stage 2', quiet: true, stopAfter: stop });
    curve.push([stop, +(await f1(tgtDev)).toFixed(4), +(await f1(srcDev)).toFixed(4)]);
  }
  // accuracy of the last weights by query intent on the target dev set (against clean labels)
  const recs = data.relevance[data.target]!.dev;
  const probs = await scoreSeqs(model, tgtDev, tok.labelTokenIds, tok.pad, s.maxLen);
  const by: Record<string, [number, number]> = {};
  recs.forEach((r, i) => {
    const k = r.intent ?? 'all';
    by[k] ??= [0, 0];
    by[k][0]++;
    if (probs[i]!.indexOf(Math.max(...probs[i]!)) === (r.true_label ?? r.label)) by[k][1]++;
  });
  const intents = Object.fromEntries(Object.entries(by).map(([k, [n, ok]]) => [k, `${(ok / n).toFixed(2)} of ${n}`]));
  // the soup: the last weights of K runs from the same Stage-1 model, averaged uniformly
  const K = Number(a.soup);
  if (!Number.isInteger(K) || K < 1) throw new Error(`--soup ${a.soup}: expected a whole number ≥ 1`);
  let soup: { members: [number, number][]; targetDev: number; sourceDev: number } | null = null;
  if (K > 1) {
    const sum: Record<string, Float64Array> = {};
    const shapes: Record<string, number[]> = {};
    const add = async () => { for (const [n, t] of Object.entries(trainedTensors(model))) { const v = await toArray(t); sum[n] ??= new Float64Array(v.length); shapes[n] = [...t.shape]; for (let i = 0; i < v.length; i++) sum[n]![i]! += v[i]!; } };
    await add();
    const members: [number, number][] = [[curve.at(-1)![1], curve.at(-1)![2]]];
    for (let k = 1; k < K; k++) {
      await loadAdapters(model, join(a.run, a.from, 'best.ckpt'), base);
      const d2 = mkdtempSync(join(tmpdir(), 'csrm-s2-'));
      try {
        await runSft({ model, labelIds: tok.labelTokenIds, padId: tok.pad, relevance: train, translation, dev: [], cfg: { ...cfg, seed: cfg.seed + k }, dir: d2, label: `stage 2 (soup ${k})`, quiet: true });
      } finally { rmSync(d2, { recursive: true, force: true }); }
      members.push([+(await f1(tgtDev)).toFixed(4), +(await f1(srcDev)).toFixed(4)]);
      await add();
    }
    const host: Record<string, HostTensor> = Object.fromEntries(Object.entries(sum).map(([n, v]) => [n, { shape: shapes[n]!, dtype: 'f32' as const, data: Float32Array.from(v, (x) => x / K) }]));
    loadTensorsInto(trainedTensors(model), host);
    soup = { members, targetDev: +(await f1(tgtDev)).toFixed(4), sourceDev: +(await f1(srcDev)).toFixed(4) };
  }
  const nT = tgtDev.length, nS = srcDev.length;
  const pick = (score: (c: [number, number, number]) => number) => curve.slice(1).reduce((b, c) => (score(c) > score(b) ? c : b));
  const byTarget = pick((c) => c[1]);
  const byBoth = pick((c) => (c[1] * nT + c[2] * nS) / (nT + nS));
  console.log(JSON.stringify({ tag: a.tag, seed: s.seed, from: a.from, mt, cleanTarget: a['clean-target'], set: a.set, freeze: a.freeze, steps: cfg.steps, lr: cfg.lr, curve, selectTargetDev: { step: byTarget[0], targetDev: byTarget[1] }, selectBothDev: { step: byBoth[0], targetDev: byBoth[1] }, intents, soup, seconds: Math.round((performance.now() - t0) / 1000) }));
} finally {
  rmSync(dir, { recursive: true, force: true });
  await shutdownGpu();
}
