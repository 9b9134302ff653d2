// The whole CSRM method on one market, stage after stage, every stage reading and writing files in
// the run folder (so any stage can be rerun alone, and a rerun skips what is done):
// generate → base model → the fine-tuning stages of the stage table (Stage 1 ±MT ±RQA, Stage 2
// ±RQA*, self-distillation rounds, the Figure 3 sweep), with RQA and soft labels made when a stage
// first needs them → transfer gap → online distillation → report.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getGpu } from '../../engine/index.ts';
import { generateMarket } from '../data/market/generate.ts';
import { writeMarket } from '../data/market/write.ts';
import { readJsonIf, writeJson } from '../io/files.ts';
import { writeReport } from '../report/report.ts';
import { loadTokenizer } from '../tokenizer/tokenizer.ts';
import type { MethodConfig } from './config.ts';
import { measureTransferGap } from './gap.ts';
import { labelModel, labelRecords } from './label.ts';
import { loadMarketData } from './market-data.ts';
import { loadAdapters, loadBase } from './model-io.ts';
import { PRETRAIN_CORPUS, runPretrain } from './pretrain.ts';
import { pickTeacher, runOnlineStage } from './online-stage.ts';
import { runSftStage, stageTrainRecords, withRqa } from './sft-stage.ts';
import { methodStages, softLabelsPath, stageRunOpts, teacherCandidates, TRANSFER_GAP_STAGES, type RqaKind, type StageSpec } from './stage-table.ts';
import { disposeLlama } from '../../models/llama.ts';

export interface StageTiming {
  stage: string;
  seconds: number;
}

/** Where a committed base checkpoint for a config lives (reproduced by `csrm pretrain` from its seed). */
export function committedBase(c: MethodConfig): string {
  return fileURLToPath(new URL(`../base/${c.name}-${c.model.preset}.ckpt`, import.meta.url));
}

/** A committed base is used only if it was pretrained with exactly this config's pretraining settings. */
async function committedMatches(path: string, c: MethodConfig): Promise<boolean> {
  const { loadCheckpoint } = await import('../../engine/index.ts');
  const meta = ((await loadCheckpoint(path)).meta ?? {}) as { steps?: number; seed?: number; seqLen?: number; corpus?: string };
  return meta.steps === c.pretrain.steps && meta.seed === c.pretrain.seed && meta.seqLen === c.pretrain.seqLen && meta.corpus === (c.pretrain.corpus ?? PRETRAIN_CORPUS);
}

/** One run of the method: its folder, its config, and the timing of every step (timings.json). */
interface Run {
  c: MethodConfig;
  runDir: string;
  data: string;
  base: string;
  quiet?: boolean;
  log: (s: string) => void;
  timed<T>(step: string, fn: () => Promise<T>): Promise<T>;
}

function openRun(c: MethodConfig, runDir: string, opts: { quiet?: boolean; log?: (s: string) => void }): Run {
  mkdirSync(runDir, { recursive: true });
  const timingsPath = join(runDir, 'timings.json');
  const timings: StageTiming[] = readJsonIf<StageTiming[]>(timingsPath) ?? [];
  // a rerun keeps the longer time: a stage found done takes no time and says nothing of its cost
  const timed = async <T>(stage: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await fn();
    const seconds = (performance.now() - t0) / 1000;
    const i = timings.findIndex((t) => t.stage === stage);
    if (i >= 0) timings[i] = { stage, seconds: Math.max(timings[i]!.seconds, seconds) };
    else timings.push({ stage, seconds });
    writeJson(timingsPath, timings);
    return r;
  };
  return { c, runDir, data: join(runDir, 'data'), base: join(runDir, 'base.ckpt'), quiet: opts.quiet, log: opts.log ?? ((s) => console.error(s)), timed };
}

/** The synthetic market of the config's preset and seed. */
function generateStep(run: Run): Promise<void> {
  return run.timed('generate', async () => {
    if (existsSync(join(run.data, 'summary.json'))) return;
    writeMarket(generateMarket({ preset: run.c.market.preset, seed: run.c.market.seed }), run.data);
    run.log(`generate: market "${run.c.market.preset}" written to ${run.data}`);
  });
}

/** The base model: the committed checkpoint when it matches the config, else pretrained here from its seed. */
function baseModelStep(run: Run): Promise<void> {
  const { c, base } = run;
  return run.timed('base model', async () => {
    if (existsSync(base)) return;
    const committed = committedBase(c);
    if (existsSync(committed) && (await committedMatches(committed, c))) {
      copyFileSync(committed, base);
      run.log(`base model: ${committed} (reproduce with \`csrm pretrain --config ${c.name}\`)`);
      return;
    }
    const p = c.pretrain;
    const r = await runPretrain({ data: run.data, out: base, preset: c.model.preset, steps: p.steps, batchSize: p.batchSize, seqLen: p.seqLen, lr: p.lr, seed: p.seed, corpus: p.corpus, quiet: run.quiet });
    run.log(`base model: pretrained ${p.steps} steps, final loss ${r.history.at(-1)?.loss?.toFixed(3)}`);
  });
}

/** Retrieval-based query augmentation (section 3.3): BM25 pseudo pairs → conversion ranker → distilled EBR (eq. 1) → rqa.jsonl. */
async function rqaStep(run: Run, kind: RqaKind): Promise<void> {
  const { runRqaStage, rqaConfig } = await import('./rqa-stage.ts');
  const star = kind === 'rqa-star';
  await run.timed(kind, async () => {
    const r = await runRqaStage({ data: run.data, base: run.base, out: join(run.runDir, kind), star, rankerDir: join(run.runDir, 'rqa', 'ranker'), maxLen: run.c.sft.maxLen, cfg: rqaConfig(run.c.rqa), quiet: run.quiet });
    run.log(`${star ? 'RQA*' : 'RQA'}: ${r.accuracy.map((a) => `${a.name} top-1 ${(100 * a.all.top1).toFixed(1)}%`).join(', ')}`);
  });
}

/** A self-distillation stage's soft labels: the predictions of the stage it learns from on its training records. */
async function softLabelStep(run: Run, s: StageSpec): Promise<void> {
  const from = s.softLabelsFrom!;
  const out = softLabelsPath(run.runDir, s);
  await run.timed(`label ${from}`, async () => {
    const tok = await loadTokenizer();
    const data = await loadMarketData(run.data);
    const recs = await withRqa(stageTrainRecords(data, 2, s.targetFraction, run.c.sft.seed), null);
    const { model } = await loadBase(run.base);
    const adapters = join(run.runDir, from, 'best.ckpt');
    await loadAdapters(model, adapters);
    const r = await labelRecords(model, tok, recs, run.c.sft.maxLen, out, { quiet: run.quiet, model: await labelModel(run.base, adapters, run.c.sft.maxLen) });
    disposeLlama(model);
    run.log(`label: ${from} → ${out} (${r.labelled} new, ${r.samplesPerSec.toFixed(1)} samples/s)`);
  });
}

/** One fine-tuning stage of the table, with what it needs made first. */
async function fineTuneStep(run: Run, s: StageSpec): Promise<void> {
  if (s.rqa) await rqaStep(run, s.rqa);
  if (s.softLabelsFrom && !readJsonIf(join(run.runDir, s.name, 'result.json'))) await softLabelStep(run, s);
  await run.timed(s.name, async () => {
    const r = await runSftStage(stageRunOpts(s, run.c, { runDir: run.runDir, data: run.data, base: run.base, quiet: run.quiet }));
    run.log(`${s.name}: target test micro-F1 ${r.eval.target.microF1.toFixed(4)} (source ${r.eval.source.microF1.toFixed(4)}, best dev F1 ${r.train.bestDevF1.toFixed(4)})`);
  });
}

/** Cross-lingual transfer gap (eq. 6) of the Stage-1 models without and with MT. */
function transferGapStep(run: Run): Promise<void> {
  return run.timed('transfer gap', async () => {
    const out = join(run.runDir, 'transfer-gap.json');
    if (existsSync(out)) return;
    const tok = await loadTokenizer();
    const data = await loadMarketData(run.data);
    const res: Record<string, { gap: number; pairs: number }> = {};
    for (const name of TRANSFER_GAP_STAGES) {
      const { model } = await loadBase(run.base);
      await loadAdapters(model, join(run.runDir, name, 'best.ckpt'));
      res[name] = await measureTransferGap(model, data, tok, run.c.sft.maxLen);
      disposeLlama(model);
    }
    writeJson(out, res);
    const [without, withMt] = TRANSFER_GAP_STAGES.map((n) => res[n]!.gap.toFixed(4));
    run.log(`transfer gap (eq. 6): without MT ${without}, with MT ${withMt}`);
  });
}

/** Twin-tower distillation (section 3.5) from the best Stage-2 teacher → online/result.json. */
function onlineStep(run: Run, stages: readonly StageSpec[]): Promise<unknown> {
  const { c, runDir } = run;
  return run.timed('online', () =>
    runOnlineStage({ runDir, data: run.data, base: run.base, teacher: pickTeacher(runDir, teacherCandidates(stages)), marketPreset: c.market.preset, online: c.online, maxLen: c.sft.maxLen, quiet: run.quiet, log: run.log }),
  );
}

export async function runMethod(c: MethodConfig, runDir: string, opts: { quiet?: boolean; log?: (s: string) => void } = {}): Promise<void> {
  const run = openRun(c, runDir, opts);
  const gpu = await getGpu();
  writeJson(join(runDir, 'device.json'), { adapter: gpu.info.adapter, software: gpu.info.isSoftware });
  run.log(`CSRM method "${c.name}" in ${runDir} on ${gpu.info.adapter}`);
  await generateStep(run);
  await baseModelStep(run);
  const stages = methodStages(c);
  for (const s of stages) await fineTuneStep(run, s);
  await transferGapStep(run);
  await onlineStep(run, stages);
  const files = await writeReport(runDir, c);
  run.log(`report: ${files.join(', ')}`);
}
