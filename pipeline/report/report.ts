// The run's report: a table shaped like the paper's Table 2, the transfer gap (eq. 6), a Figure-3-like
// plot (F1 against the number of target labels, with and without self-distillation), per-class
// scores, the stages and settings, timing per stage and the device — every number read from this
// run's own result files, every stage named by the method's stage table (stages/stage-table.ts).
import { join } from 'node:path';
import { readJsonIf, writeAtomic, writeJson } from '../io/files.ts';
import type { MethodConfig } from '../stages/config.ts';
import type { SftStageResult } from '../stages/sft-stage.ts';
import { methodStages, TRANSFER_GAP_STAGES, type StageSpec } from '../stages/stage-table.ts';
import { CLASS_NAMES } from '../eval/metrics.ts';
import { linePlot, mdTable } from './svg.ts';
import { onlineSection } from './online-section.ts';
import { settingsSection } from './settings-section.ts';

interface Row {
  stage: string; // the paper's stage
  name: string;
  setting: string;
  data: string;
  from: string; // the stage it continues, or the base model
  f1: number;
  aliasF1: number | null;
  sourceF1: number;
  devF1: number;
  seconds: number;
}

type Point = [number, number];
type Timing = { stage: string; seconds: number };
type Results = (name: string) => SftStageResult | null;

const f4 = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(4));

/**
 * A sentence on whether a technique changed target-test F1 beyond noise. Micro-F1 here equals
 * accuracy, so the standard error of a difference between two models on n samples is about
 * √(2·p(1−p)/n); differences within 2 SE are reported as noise, not as a gain or a loss.
 */
function verdict(what: string, base: number, withIt: number, n: number): string {
  const d = withIt - base;
  const p = (base + withIt) / 2;
  const se2 = 2 * Math.sqrt((2 * p * (1 - p)) / Math.max(1, n));
  const delta = `${f4(base)} → ${f4(withIt)} (${d >= 0 ? '+' : ''}${d.toFixed(4)}, noise ±${se2.toFixed(3)} at n = ${n})`;
  if (Math.abs(d) < se2) return `${what}: within noise in this run, ${delta}.`;
  return d > 0 ? `${what} helped: ${delta}.` : `${what} did not help in this miniature world: ${delta}.`;
}

/** Table 2's rows: the table's stages that have a result in this run. */
function table2Rows(stages: readonly StageSpec[], res: Results): Row[] {
  return stages.flatMap((s) => {
    const r = s.table2 ? res(s.name) : null;
    if (!r) return [];
    return [{ stage: `Stage ${s.stage}`, name: s.name, setting: s.setting, from: r.train.init ?? 'base model', data: r.trainingData, f1: r.eval.target.microF1, aliasF1: r.eval.targetAlias?.microF1 ?? null, sourceF1: r.eval.source.microF1, devF1: r.train.bestDevF1, seconds: r.seconds }];
  });
}

function headerSection(c: MethodConfig, first: SftStageResult, device: { adapter: string } | null): string[] {
  const s = c.sft;
  const t = first.trainable;
  return [
    `# CSRM report — run "${c.name}"`, '',
    `Device: ${device?.adapter ?? 'unknown'}. Market preset "${c.market.preset}" (seed ${c.market.seed}), model preset "${c.model.preset}" (${t.total.toLocaleString('en')} parameters; ${first.train.adapter === 'full' ? 'full fine-tuning: every weight trains' : 'LoRA on q/k/v trains'} ${t.trainable.toLocaleString('en')} = ${(100 * t.share).toFixed(2)}%).`,
    `Stage 1 settings start from the base model (${s.steps} steps of batch ${s.batchSize}); Stage 2 and each self-distillation round continue the model named under "starts from" (${s.warmSteps} steps${s.targetShare ? `, target-market labels upsampled to ${Math.round(100 * s.targetShare)}% of the relevance stream` : ''}). A setting with the translation task takes ${s.mtRatio > 0 ? `1/(1 − ${s.mtRatio}) times as many steps` : 'no extra steps'}, so that it trains on as many relevance samples as without it.`,
    'All numbers below were measured in this run. Checkpoints are chosen on the dev set; the clean target-market test set is used only here.', '',
  ];
}

/** The verdicts the stage table asks for (a stage against the one it improves on), plus a note when RQA did not run. */
function table2Notes(stages: readonly StageSpec[], rows: readonly Row[], nTest: number): string[] {
  const get = (n: string) => rows.find((r) => r.name === n);
  const notes: string[] = [];
  for (const s of stages) {
    const [a, b] = [s.verdict ? get(s.verdict.against) : undefined, get(s.name)];
    if (s.verdict && a && b) notes.push(verdict(s.verdict.what, a.f1, b.f1, nTest));
  }
  if (!stages.some((s) => s.rqa && s.table2 && get(s.name))) notes.push('RQA rows are absent: the retrieval-based query augmentation stage is not part of this run.');
  return notes;
}

function table2Section(rows: readonly Row[], majority: number, notes: readonly string[]): string[] {
  return [
    '## Table 2 — micro-F1 (eq. 5) on the target-market test set', '',
    mdTable(
      ['Stage', 'Setting', 'Training data', 'Starts from', 'F1 (target test)', 'F1 alias queries', 'F1 (source test)', 'best dev F1'],
      rows.map((r) => [r.stage, r.setting, r.data, r.from, f4(r.f1), f4(r.aliasF1), f4(r.sourceF1), f4(r.devF1)]),
    ),
    '', `Majority-class rate on the target test set: ${f4(majority)} (a model must beat this to have learned anything).`, '',
    ...notes.map((n) => `- ${n}`), '',
  ];
}

interface Accuracy { top1: number; anyOfK: number; queries: number }

/** Section 5.2: retrieval accuracy of BM25 / EBR (rqa/) and EBR* (rqa-star/) on the target queries. */
function retrievalSection(runDir: string): string[] {
  const acc = (['rqa', 'rqa-star'] as const).flatMap((d) => readJsonIf<{ k: number; truth: string; rows: { name: string; all: Accuracy; alias: Accuracy }[] }>(join(runDir, d, 'retrieval-accuracy.json')) ?? []);
  if (acc.length === 0) return [];
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const k = acc[0]!.k;
  return [
    '## Retrieval accuracy (section 5.2)', '',
    mdTable(['Retriever', 'top-1', `any of top ${k}`, 'queries', 'alias top-1', `alias any of top ${k}`, 'alias queries'],
      acc.flatMap((a) => a.rows).map((r) => [r.name, pct(r.all.top1), pct(r.all.anyOfK), r.all.queries, pct(r.alias.top1), pct(r.alias.anyOfK), r.alias.queries])), '',
    `The paper's raters saw 65% (BM25) → 82% (EBR) → 88% (EBR*). Truth here: ${acc[0]!.truth}.`, '',
  ];
}

function gapSection(gap: Record<string, { gap: number; pairs: number }> | null, stages: readonly StageSpec[]): string[] {
  if (!gap) return [];
  const label = (name: string) => {
    const s = stages.find((x) => x.name === name);
    return s ? `Stage ${s.stage} ${s.setting} (${s.mt ? 'with' : 'without'} MT)` : name;
  };
  const md = ['## Cross-lingual transfer gap (eq. 6)', '', mdTable(['Model', 'Gap (lower = closer)', 'Paired samples'], Object.entries(gap).map(([k, v]) => [label(k), f4(v.gap), v.pairs]))];
  const [g0, g1] = TRANSFER_GAP_STAGES.map((n) => gap[n]?.gap);
  if (g0 !== undefined && g1 !== undefined) md.push('', g1 < g0 ? `With the translation task the gap is smaller (${f4(g0)} → ${f4(g1)}), as in the paper (0.689 → 0.676).` : `With the translation task the gap is not smaller here (${f4(g0)} → ${f4(g1)}); the paper saw 0.689 → 0.676.`);
  md.push('');
  return md;
}

/** Target-market training labels of the run's market (data/summary.json), the x axis of Figure 3. */
function targetTrainLabels(runDir: string): number {
  const summary = readJsonIf<{ relevance: Record<string, { count: number }> }>(join(runDir, 'data', 'summary.json'));
  if (!summary) return 0;
  const source = Object.keys(summary.relevance)[0]!.split('/')[0]!;
  return Object.entries(summary.relevance).find(([k]) => k.endsWith('/train') && !k.startsWith(source))?.[1].count ?? 0;
}

/** Figure 3's curves: each stage with a figure3 point and a result, by number of target labels. */
function figure3Points(runDir: string, stages: readonly StageSpec[], res: Results): { without: Point[]; withSd: Point[] } {
  const n = targetTrainLabels(runDir);
  const curve = (sd: boolean): Point[] =>
    stages
      .flatMap((s): Point[] => {
        const r = s.figure3?.sd === sd ? res(s.name) : null;
        return r ? [[Math.round(n * s.figure3!.fraction), r.eval.target.microF1]] : [];
      })
      .sort((a, b) => a[0] - b[0]);
  return { without: curve(false), withSd: curve(true) };
}

function figure3Section(runDir: string, { without, withSd }: { without: Point[]; withSd: Point[] }, files: string[]): string[] {
  if (without.length <= 1 && withSd.length === 0) return [];
  const svg = linePlot({
    title: 'F1 vs. number of target-market training labels',
    xLabel: 'target training labels',
    yLabel: 'micro-F1 (target test)',
    series: [
      { name: 'without SD', points: without },
      { name: 'with SD (1 round)', points: withSd, dashed: true },
    ].filter((s) => s.points.length > 0),
  });
  writeAtomic(join(runDir, 'figure3.svg'), svg);
  files.push(join(runDir, 'figure3.svg'));
  return [
    '## Figure 3 — F1 against the number of target labels', '', '![Figure 3](figure3.svg)', '',
    mdTable(['Target labels', 'without SD', 'with SD-1'], without.map(([n, f]) => [n, f4(f), f4(withSd.find((p) => p[0] === n)?.[1])])), '',
  ];
}

/** Per-class scores and the confusion matrix of the best Table-2 row. */
function bestRowSection(rows: readonly Row[], res: Results): string[] {
  const best = rows.reduce((a, b) => (b.f1 > a.f1 ? b : a));
  const ev = res(best.name)!.eval.target;
  return [
    `## Per-class scores of the best setting (${best.setting}, ${best.data})`, '',
    mdTable(['Class', 'Precision', 'Recall', 'F1', 'Support'], ev.perClass.map((p, i) => [CLASS_NAMES[i]!, f4(p.precision), f4(p.recall), f4(p.f1), p.support])), '',
    'Confusion matrix (rows: true, columns: predicted; irrelevant, substitute, exact):', '', '```', ...ev.confusion.map((r) => r.map((v) => String(v).padStart(5)).join('')), '```', '',
  ];
}

function timingSection(timings: readonly Timing[], res: Results): string[] {
  const total = timings.reduce((s, t) => s + t.seconds, 0);
  const s2 = res('stage2');
  return [
    '## Timing per stage', '',
    mdTable(['Stage', 'Seconds'], timings.map((t) => [t.stage, t.seconds.toFixed(1)])), '',
    `Total: ${total.toFixed(0)} s. Training throughput of the Stage-2 run: ${s2 ? s2.train.tokensPerSec.toFixed(0) : 'n/a'} tokens/s.`, '',
  ];
}

export async function writeReport(runDir: string, c: MethodConfig): Promise<string[]> {
  const res: Results = (name) => readJsonIf<SftStageResult>(join(runDir, name, 'result.json'));
  const stages = methodStages(c);
  const rows = table2Rows(stages, res);
  if (rows.length === 0) throw new Error(`report: no stage results in ${runDir}`);
  const device = readJsonIf<{ adapter: string }>(join(runDir, 'device.json'));
  const timings = readJsonIf<Timing[]>(join(runDir, 'timings.json')) ?? [];
  const gap = readJsonIf<Record<string, { gap: number; pairs: number }>>(join(runDir, 'transfer-gap.json'));
  const first = res(rows[0]!.name)!;
  const majority = first.eval.target.majorityRate;
  const notes = table2Notes(stages, rows, first.eval.target.n);
  const figure3 = figure3Points(runDir, stages, res);
  const files: string[] = [];
  const md = [
    ...headerSection(c, first, device),
    ...table2Section(rows, majority, notes),
    ...retrievalSection(runDir),
    ...gapSection(gap, stages),
    ...figure3Section(runDir, figure3, files),
    ...bestRowSection(rows, res),
    ...onlineSection(runDir),
    ...settingsSection(c, stages),
    ...timingSection(timings, res),
  ];
  const mdPath = join(runDir, 'report.md');
  writeAtomic(mdPath, md.join('\n'));
  const jsonPath = join(runDir, 'report.json');
  writeJson(jsonPath, { config: c, device, table2: rows, majorityRate: majority, transferGap: gap, figure3, timings, notes });
  files.unshift(mdPath, jsonPath);
  return files;
}
