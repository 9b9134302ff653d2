// The whole CSRM method on one market, stage after stage, every stage reading and writing files in
// the run folder (so any stage can be rerun alone, and a rerun skips what is done):
// generate → base model → Stage 1 (SFT, SFT+MT) → Stage 2 → self-distillation rounds → Figure 3
// sweep → transfer gap → report.
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
import { runSftStage, stageTrainRecords, withRqa, type SftStageOpts, type SftStageResult } from './sft-stage.ts';
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

export async function runMethod(c: MethodConfig, runDir: string, opts: { quiet?: boolean; log?: (s: string) => void } = {}): Promise<void> {
  const log = opts.log ?? ((s: string) => console.error(s));
  mkdirSync(runDir, { recursive: true });
  const timingsPath = join(runDir, 'timings.json');
  const timings: StageTiming[] = readJsonIf<StageTiming[]>(timingsPath) ?? [];
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
  const gpu = await getGpu();
  writeJson(join(runDir, 'device.json'), { adapter: gpu.info.adapter, software: gpu.info.isSoftware });
  log(`CSRM method "${c.name}" in ${runDir} on ${gpu.info.adapter}`);

  // 1. the synthetic market
  const dataDir = join(runDir, 'data');
  await timed('generate', async () => {
    if (existsSync(join(dataDir, 'summary.json'))) return;
    const m = generateMarket({ preset: c.market.preset, seed: c.market.seed });
    writeMarket(m, dataDir);
    log(`generate: market "${c.market.preset}" written to ${dataDir}`);
  });

  // 2. the base model: the committed checkpoint when it exists, else pretrained here from its seed
  const base = join(runDir, 'base.ckpt');
  await timed('base model', async () => {
    if (existsSync(base)) return;
    const committed = committedBase(c);
    if (existsSync(committed) && (await committedMatches(committed, c))) {
      copyFileSync(committed, base);
      log(`base model: ${committed} (reproduce with \`csrm pretrain --config ${c.name}\`)`);
      return;
    }
    const p = c.pretrain;
    const r = await runPretrain({ data: dataDir, out: base, preset: c.model.preset, steps: p.steps, batchSize: p.batchSize, seqLen: p.seqLen, lr: p.lr, seed: p.seed, corpus: p.corpus, quiet: opts.quiet });
    log(`base model: pretrained ${p.steps} steps, final loss ${r.history.at(-1)?.loss?.toFixed(3)}`);
  });

  // a stage that continues an earlier one (init) trains warmSteps; one from the base model trains steps
  const stage = (o: Partial<SftStageOpts> & Pick<SftStageOpts, 'name' | 'stage' | 'mt'>): Promise<SftStageResult> =>
    timed(o.name, async () => {
      const train = o.init ? { ...c.sft, steps: c.sft.warmSteps ?? c.sft.steps } : c.sft;
      const r = await runSftStage({
        runDir, data: dataDir, base, rqa: null, softLabels: null, alpha: 1, targetFraction: 1, train, quiet: opts.quiet, ...o,
      });
      log(`${o.name}: target test micro-F1 ${r.eval.target.microF1.toFixed(4)} (source ${r.eval.source.microF1.toFixed(4)}, best dev F1 ${r.train.bestDevF1.toFixed(4)})`);
      return r;
    });

  const label = (from: string, out: string, fraction: number) =>
    timed(`label ${from}`, async () => {
      const tok = await loadTokenizer();
      const data = await loadMarketData(dataDir);
      const recs = await withRqa(stageTrainRecords(data, 2, fraction, c.sft.seed), null);
      const { model } = await loadBase(base);
      const adapters = join(runDir, from, 'best.ckpt');
      await loadAdapters(model, adapters);
      const r = await labelRecords(model, tok, recs, c.sft.maxLen, out, { quiet: opts.quiet, model: await labelModel(base, adapters, c.sft.maxLen) });
      disposeLlama(model);
      log(`label: ${from} → ${out} (${r.labelled} new, ${r.samplesPerSec.toFixed(1)} samples/s)`);
      return r;
    });

  // 3. Stage 1: cold start with zero target data, without and with the translation task
  await stage({ name: 'stage1-sft', stage: 1, mt: false });
  await stage({ name: 'stage1-sft-mt', stage: 1, mt: true });
  // 3b. [RQA hook] retrieval-based query augmentation (section 3.3): BM25 pseudo pairs → conversion
  //     ranker → distilled EBR (eq. 1) → rqa.jsonl
  const { runRqaStage, rqaConfig } = await import('./rqa-stage.ts');
  const rqaDir = join(runDir, 'rqa');
  const rqa = (star: boolean, out: string) =>
    timed(star ? 'rqa-star' : 'rqa', async () => {
      const r = await runRqaStage({ data: dataDir, base, out, star, rankerDir: join(rqaDir, 'ranker'), maxLen: c.sft.maxLen, cfg: rqaConfig(c.rqa), quiet: opts.quiet });
      log(`${star ? 'RQA*' : 'RQA'}: ${r.accuracy.map((a) => `${a.name} top-1 ${(100 * a.all.top1).toFixed(1)}%`).join(', ')}`);
    });
  await rqa(false, rqaDir);
  await stage({ name: 'stage1-sft-mt-rqa', stage: 1, mt: true, rqa: rqaDir });
  // 4. Stage 2: source + sparse target labels
  // Stage 2 localises the Stage-1 model (SFT+MT) with the target market's sparse labels
  await stage({ name: 'stage2', stage: 2, mt: true, init: 'stage1-sft-mt' });
  // 4b. [RQA* hook] EBR retrained with the target market's sparse behaviour
  const rqaStarDir = join(runDir, 'rqa-star');
  await rqa(true, rqaStarDir);
  await stage({ name: 'stage2-rqa-star', stage: 2, mt: true, rqa: rqaStarDir, init: 'stage1-sft-mt-rqa' });
  // 5. multi-round self-distillation: round k learns from round k−1's soft labels
  let prev = 'stage2';
  for (let k = 1; k <= c.sd.rounds; k++) {
    const lab = join(runDir, `sd-${k}`, 'soft-labels.jsonl');
    if (!readJsonIf(join(runDir, `sd-${k}`, 'result.json'))) await label(prev, lab, 1);
    await stage({ name: `sd-${k}`, stage: 2, mt: true, softLabels: lab, alpha: c.sd.alpha, init: prev });
    prev = `sd-${k}`;
  }
  // 6. Figure 3: F1 against the number of target labels, with and without one self-distillation round
  for (const f of c.figure3.fractions) {
    const pct = Math.round(f * 100);
    await stage({ name: `stage2-${pct}`, stage: 2, mt: true, targetFraction: f, init: 'stage1-sft-mt' });
    const lab = join(runDir, `sd-1-${pct}`, 'soft-labels.jsonl');
    if (!readJsonIf(join(runDir, `sd-1-${pct}`, 'result.json'))) await label(`stage2-${pct}`, lab, f);
    await stage({ name: `sd-1-${pct}`, stage: 2, mt: true, targetFraction: f, softLabels: lab, alpha: c.sd.alpha, init: `stage2-${pct}` });
  }
  // 7. cross-lingual transfer gap (eq. 6) of the Stage-1 models without and with MT
  await timed('transfer gap', async () => {
    const out = join(runDir, 'transfer-gap.json');
    if (existsSync(out)) return;
    const tok = await loadTokenizer();
    const data = await loadMarketData(dataDir);
    const res: Record<string, { gap: number; pairs: number }> = {};
    for (const name of ['stage1-sft', 'stage1-sft-mt']) {
      const { model } = await loadBase(base);
      await loadAdapters(model, join(runDir, name, 'best.ckpt'));
      res[name] = await measureTransferGap(model, data, tok, c.sft.maxLen);
      disposeLlama(model);
    }
    writeJson(out, res);
    log(`transfer gap (eq. 6): without MT ${res['stage1-sft']!.gap.toFixed(4)}, with MT ${res['stage1-sft-mt']!.gap.toFixed(4)}`);
  });
  // 7b. [online hook] twin-tower distillation (section 3.5): EM and defect students from the best
  //     teacher's soft labels, baseline on hard labels, Table 3 and EM@1 / Defect@5 → online/result.json
  await timed('online', () =>
    runOnlineStage({ runDir, data: dataDir, base, teacher: pickTeacher(runDir, ['stage2', ...Array.from({ length: c.sd.rounds }, (_, k) => `sd-${k + 1}`)]), marketPreset: c.market.preset, online: c.online, maxLen: c.sft.maxLen, quiet: opts.quiet, log }),
  );
  // 8. the report
  const files = await writeReport(runDir, c);
  log(`report: ${files.join(', ')}`);
}
