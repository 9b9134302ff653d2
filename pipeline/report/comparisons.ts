// Every difference the report states, each as a paired comparison on the same test samples (or
// queries), pooled over the fine-tuning seeds of a study: the stage table's comparisons (Table 2:
// MT, RQA, Stage 2, RQA*, each self-distillation round; Figure 3: one SD round at each share of
// target labels), retrieval accuracy (EBR vs BM25, EBR* vs EBR), and Table 3 (distilled towers vs
// the hard-label baseline). Read from the result files alone; what cannot be compared is listed
// with the reason instead of being left out silently.
import { join } from 'node:path';
import type { BootstrapOpts } from '../eval/paired-bootstrap.ts';
import type { PairedComparison } from '../eval/paired-comparison.ts';
import { compareStoredBinary, compareStoredOutcomes, compareStoredPredictions, type StoredOutcomes } from '../eval/stored-comparisons.ts';
import { readJsonIf } from '../io/files.ts';
import type { OnlineStageResult } from '../stages/online-stage.ts';
import type { RqaAccuracy } from '../stages/rqa-stage.ts';
import type { SftStageResult } from '../stages/sft-stage.ts';
import type { StageSpec } from '../stages/stage-table.ts';

export type Section = 'Table 2' | 'Figure 3' | 'Retrieval accuracy' | 'Table 3';

export interface StatedComparison extends PairedComparison {
  section: Section;
  /** The technique or question. */
  what: string;
  /** Model A (the reference) and model B (with the technique). */
  from: string;
  to: string;
  /** What is compared: "micro-F1 (target test)", "top-1 accuracy", "EM F1", … */
  measure: string;
}

export interface Comparisons {
  stated: StatedComparison[];
  /** Comparisons that could not be made, with the reason. */
  missing: string[];
}

/** The run folders of the fine-tuning seeds and the folder of the shared market and RQA runs. */
export interface ReportRuns {
  seeds: readonly string[];
  shared: string;
}

type RetrievalFile = { k: number; rows: RqaAccuracy[] };

/** Per seed, a stage's result; null when no seed has it; a string when only some do. */
function perSeed<T>(runs: ReportRuns, file: string): T[] | null | string {
  const got = runs.seeds.map((d) => readJsonIf<T>(join(d, file)));
  const have = got.filter((x) => x !== null).length;
  if (have === 0) return null;
  if (have < got.length) return `${file} exists in ${have} of ${got.length} seed folders`;
  return got as T[];
}

function stageComparisons(stages: readonly StageSpec[], runs: ReportRuns, opts: BootstrapOpts, out: Comparisons): void {
  for (const s of stages) {
    if (!s.verdict) continue;
    const a = perSeed<SftStageResult>(runs, join(s.verdict.against, 'result.json'));
    const b = perSeed<SftStageResult>(runs, join(s.name, 'result.json'));
    if (a === null || b === null) continue; // the stage is not part of this run
    if (typeof a === 'string' || typeof b === 'string') {
      out.missing.push(`${s.verdict.what}: ${typeof a === 'string' ? a : b}`);
      continue;
    }
    const lacking = [...a.map((r) => [s.verdict!.against, r] as const), ...b.map((r) => [s.name, r] as const)].find(([, r]) => !r.eval.targetSamples);
    if (lacking) {
      out.missing.push(`${s.verdict.what}: ${lacking[0]}/result.json has no per-sample predictions (written before they were kept; rerun the stage)`);
      continue;
    }
    const c = compareStoredPredictions(a.map((r) => r.eval.targetSamples), b.map((r) => r.eval.targetSamples), { a: s.verdict.against, b: s.name }, opts);
    out.stated.push({ section: s.figure3 && !s.table2 ? 'Figure 3' : 'Table 2', what: s.verdict.what, from: s.verdict.against, to: s.name, measure: 'micro-F1 (target test)', ...c });
  }
}

function retrievalComparisons(runs: ReportRuns, opts: BootstrapOpts, out: Comparisons): void {
  const rows = (['rqa', 'rqa-star'] as const).flatMap((d) => readJsonIf<RetrievalFile>(join(runs.shared, d, 'retrieval-accuracy.json'))?.rows ?? []);
  const row = (name: string) => rows.find((r) => r.name === name);
  const k = readJsonIf<RetrievalFile>(join(runs.shared, 'rqa', 'retrieval-accuracy.json'))?.k;
  for (const [from, to, what] of [['BM25', 'EBR', 'The distilled EBR retriever against BM25 (section 5.2)'], ['EBR', 'EBR*', 'EBR* retrained with the target\'s sparse behaviour against EBR']] as const) {
    const [a, b] = [row(from), row(to)];
    if (!a || !b) continue;
    if (!a.perQuery || !b.perQuery) {
      out.missing.push(`${what}: retrieval-accuracy.json has no per-query outcomes (written before they were kept; rerun csrm rqa)`);
      continue;
    }
    for (const [key, measure] of [['top1', 'top-1 accuracy'], ['anyOfK', `any-of-top-${k} accuracy`]] as const) {
      const o = (r: RqaAccuracy): StoredOutcomes => ({ n: r.perQuery.n, fingerprint: r.perQuery.fingerprint, outcomes: r.perQuery[key] });
      out.stated.push({ section: 'Retrieval accuracy', what, from, to, measure, ...compareStoredOutcomes([o(a)], [o(b)], { a: from, b: to }, opts) });
    }
  }
}

function onlineComparisons(runs: ReportRuns, opts: BootstrapOpts, out: Comparisons): void {
  const r = perSeed<OnlineStageResult>(runs, join('online', 'result.json'));
  if (r === null) return;
  const what = 'Twin towers distilled from the teacher (eq. 4) against the same towers on hard labels';
  if (typeof r === 'string' || r.some((x) => !x.samples)) {
    out.missing.push(`${what}: ${typeof r === 'string' ? r : 'online/result.json has no per-sample predictions (written before they were kept; rerun csrm distill-online)'}`);
    return;
  }
  const names = { a: 'baseline', b: 'distilled' };
  const push = (measure: string, c: PairedComparison) => out.stated.push({ section: 'Table 3', what, from: 'baseline', to: 'distilled', measure, ...c });
  const samples = r.map((x) => x.samples);
  const isDefect = (l: number) => l === 0;
  const isExact = (l: number) => l === 2;
  push('defect F1', compareStoredBinary(samples, isDefect, r.map((x) => x.perSample.baseline.defect), r.map((x) => x.perSample.distilled.defect), 'f1', names, opts));
  push('defect accuracy', compareStoredBinary(samples, isDefect, r.map((x) => x.perSample.baseline.defect), r.map((x) => x.perSample.distilled.defect), 'accuracy', names, opts));
  push('EM F1', compareStoredBinary(samples, isExact, r.map((x) => x.perSample.baseline.em), r.map((x) => x.perSample.distilled.em), 'f1', names, opts));
  push('EM accuracy', compareStoredBinary(samples, isExact, r.map((x) => x.perSample.baseline.em), r.map((x) => x.perSample.distilled.em), 'accuracy', names, opts));
  const q = (x: OnlineStageResult, m: 'baseline' | 'distilled', key: 'em1' | 'clean5'): StoredOutcomes => ({ n: x.perQuery[m].n, fingerprint: x.perQuery[m].fingerprint, outcomes: x.perQuery[m][key] });
  push('EM@1', compareStoredOutcomes(r.map((x) => q(x, 'baseline', 'em1')), r.map((x) => q(x, 'distilled', 'em1')), names, opts));
  push('Defect@5 (share of pages without a defect)', compareStoredOutcomes(r.map((x) => q(x, 'baseline', 'clean5')), r.map((x) => q(x, 'distilled', 'clean5')), names, opts));
}

export function collectComparisons(stages: readonly StageSpec[], runs: ReportRuns, opts: BootstrapOpts = {}): Comparisons {
  const out: Comparisons = { stated: [], missing: [] };
  stageComparisons(stages, runs, opts, out);
  retrievalComparisons(runs, opts, out);
  onlineComparisons(runs, opts, out);
  return out;
}
