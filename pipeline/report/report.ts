// The run's report: a table shaped like the paper's Table 2, the transfer gap (eq. 6), a Figure-3-like
// plot (F1 against the number of target labels, with and without self-distillation), per-class
// scores, the stages and settings, timing per stage and the device — every number read from this
// run's own result files, every stage named by the method's stage table (stages/stage-table.ts).
// Every difference it states comes with its paired interval, p-value and verdict (comparisons.ts).
// A study (csrm study) reports its seeds together: each row as mean ± sd over the seeds, each
// comparison pooled over them.
import { join, relative } from 'node:path';
import { BOOTSTRAP_LEVEL, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED } from '../eval/paired-bootstrap.ts';
import { formatSeedSpread, seedSpread, type SeedSpread } from '../eval/seed-spread.ts';
import { readJsonIf, writeAtomic, writeJson } from '../io/files.ts';
import type { MethodConfig } from '../stages/config.ts';
import type { SftStageResult } from '../stages/sft-stage.ts';
import { methodStages, TRANSFER_GAP_STAGES, type StageSpec } from '../stages/stage-table.ts';
import { CLASS_NAMES } from '../eval/metrics.ts';
import { mdTable } from './svg.ts';
import { onlineSection } from './online-section.ts';
import { settingsSection } from './settings-section.ts';
import { collectComparisons, type Comparisons, type ReportRuns } from './comparisons.ts';
import { comparisonNotes, comparisonsSection } from './comparisons-section.ts';
import { figure3Points, figure3Section } from './figure3-section.ts';

interface Row {
  stage: string; // the paper's stage
  name: string;
  setting: string;
  data: string;
  from: string; // the stage it continues, or the base model
  /** Means over the seeds that have the stage; f1Seeds has each seed's value and the sd. */
  f1: number;
  f1Seeds: SeedSpread;
  aliasF1: number | null;
  sourceF1: number;
  devF1: number;
  seconds: number;
}

type Timing = { stage: string; seconds: number };
/** A stage's result in each seed folder that has it (seed 1 first). */
type Results = (name: string) => SftStageResult[];

const f4 = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(4));

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Table 2's rows: the table's stages that have a result in this run (in any seed folder of a study). */
function table2Rows(stages: readonly StageSpec[], res: Results): Row[] {
  return stages.flatMap((s) => {
    const rs = s.table2 ? res(s.name) : [];
    if (rs.length === 0) return [];
    const r = rs[0]!;
    const alias = rs.map((x) => x.eval.targetAlias?.microF1).filter((x): x is number => x !== undefined);
    const f1Seeds = seedSpread(rs.map((x) => x.eval.target.microF1));
    return [{
      stage: `Stage ${s.stage}`, name: s.name, setting: s.setting, from: r.train.init ?? 'base model', data: r.trainingData,
      f1: f1Seeds.mean, f1Seeds, aliasF1: alias.length ? mean(alias) : null, sourceF1: mean(rs.map((x) => x.eval.source.microF1)),
      devF1: mean(rs.map((x) => x.train.bestDevF1)), seconds: mean(rs.map((x) => x.seconds)),
    }];
  });
}

/** What the header says of the translated twins (translated-twins.ts), an extension of the paper's method, when a run uses them. */
export function twinsSentence(s: Pick<MethodConfig['sft'], 'translatedTwins' | 'twinsWithTranslation'> & Partial<Pick<MethodConfig['sft'], 'twinsSide'>>): string {
  const who = [s.twinsWithTranslation ? 'Stage 1\'s settings with the translation task (sft.twinsWithTranslation)' : '', s.translatedTwins ? 'Stage 2 and the rounds continuing it (sft.translatedTwins)' : ''].filter(Boolean);
  if (who.length === 0) return '';
  return ` Not in the paper: ${who.join(' and ')} also learn the source training labels' translated twins — each source sample said in the target language with the market's curated query translation and the product's target listing, label kept; no target label, and no pair the target market judged${s.twinsWithTranslation ? '; a Stage-1 setting with them stays zero-shot on the target market, and the translation task\'s comparison then measures the curated translations used both ways' : ''}${s.translatedTwins && s.twinsSide === 'target' ? '; in Stage 2\'s upsampling they count with the target-market labels, both repeated together (sft.twinsSide)' : ''}.`;
}

function headerSection(c: MethodConfig, first: SftStageResult, device: { adapter: string } | null, seeds: number): string[] {
  const s = c.sft;
  const t = first.trainable;
  return [
    `# CSRM report — ${seeds > 1 ? `study of ${seeds} fine-tuning seeds` : 'run'} "${c.name}"`, '',
    `Device: ${device?.adapter ?? 'unknown'}. Market preset "${c.market.preset}" (seed ${c.market.seed}), model preset "${c.model.preset}" (${t.total.toLocaleString('en')} parameters; ${first.train.adapter === 'full' ? 'full fine-tuning: every weight trains' : 'LoRA on q/k/v trains'} ${t.trainable.toLocaleString('en')} = ${(100 * t.share).toFixed(2)}%).`,
    `Stage 1 settings start from the base model (${s.steps} steps of batch ${s.batchSize})${s.rqaContinues ? ', except SFT+MT+RQA (sft.rqaContinues)' : ''}; ${s.rqaContinues ? 'that one, ' : ''}Stage 2 and each self-distillation round continue the model named under "starts from" (${s.warmSteps} steps${s.targetShare ? `, target-market labels upsampled to ${Math.round(100 * s.targetShare)}% of the relevance stream` : ''}). A setting with the translation task takes ${s.mtRatio > 0 ? `1/(1 − ${s.mtRatio}) times as many steps` : 'no extra steps'}, so that it trains on as many relevance samples as without it.${twinsSentence(s)}`,
    `Test sets: ${c.market.test.toLocaleString('en')} samples per market (dev: ${c.market.dev.toLocaleString('en')}).` +
      (seeds > 1 ? ` Every fine-tuning stage ran with ${seeds} seeds (sft.seed ${s.seed} … ${s.seed + seeds - 1}) on the same market, base model and RQA retrievers; a row gives mean ± sd over the seeds.` : ''),
    'All numbers below were measured in this run. Checkpoints are chosen on the dev set; the clean target-market test set is used only here.', '',
  ];
}

/** Table 2's notes: the comparisons of its rows (paired intervals and verdicts), plus a note when RQA did not run. */
function table2Notes(stages: readonly StageSpec[], rows: readonly Row[], cs: Comparisons): string[] {
  const notes = comparisonNotes(cs, 'Table 2');
  if (!stages.some((s) => s.rqa && s.table2 && rows.some((r) => r.name === s.name))) notes.push('- RQA rows are absent: the retrieval-based query augmentation stage is not part of this run.');
  return notes;
}

function table2Section(rows: readonly Row[], majority: number, notes: readonly string[], seeds: number): string[] {
  const f1 = seeds > 1 ? `F1 (target test), mean ± sd of ${seeds} seeds` : 'F1 (target test)';
  return [
    '## Table 2 — micro-F1 (eq. 5) on the target-market test set', '',
    mdTable(
      ['Stage', 'Setting', 'Training data', 'Starts from', f1, ...['F1 alias queries', 'F1 (source test)', 'best dev F1'].map((h) => (seeds > 1 ? `${h} (mean)` : h))],
      rows.map((r) => [r.stage, r.setting, r.data, r.from, r.f1Seeds.n < seeds ? `${formatSeedSpread(r.f1Seeds)} (${r.f1Seeds.n} seeds)` : formatSeedSpread(r.f1Seeds), f4(r.aliasF1), f4(r.sourceF1), f4(r.devF1)]),
    ),
    '', `Majority-class rate on the target test set: ${f4(majority)} (a model must beat this to have learned anything).`, '',
    'What each technique changed (B − A on the same test samples; paired 95% interval; verdict from the interval):', '',
    ...notes, '',
  ];
}

interface Accuracy { top1: number; anyOfK: number; queries: number }

/** Section 5.2: retrieval accuracy of BM25 / EBR (rqa/) and EBR* (rqa-star/) on the target queries, and their paired comparisons. */
function retrievalSection(shared: string, cs: Comparisons): string[] {
  const acc = (['rqa', 'rqa-star'] as const).flatMap((d) => readJsonIf<{ k: number; truth: string; rows: { name: string; all: Accuracy; alias: Accuracy }[] }>(join(shared, d, 'retrieval-accuracy.json')) ?? []);
  if (acc.length === 0) return [];
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const k = acc[0]!.k;
  return [
    '## Retrieval accuracy (section 5.2)', '',
    mdTable(['Retriever', 'top-1', `any of top ${k}`, 'queries', 'alias top-1', `alias any of top ${k}`, 'alias queries'],
      acc.flatMap((a) => a.rows).map((r) => [r.name, pct(r.all.top1), pct(r.all.anyOfK), r.all.queries, pct(r.alias.top1), pct(r.alias.anyOfK), r.alias.queries])), '',
    `The paper's raters saw 65% (BM25) → 82% (EBR) → 88% (EBR*). Truth here: ${acc[0]!.truth}.`, '',
    ...comparisonNotes(cs, 'Retrieval accuracy'), '',
  ];
}

type Gap = Record<string, { gap: number; pairs: number }>;

/** Eq. 6 of the Stage-1 models without and with MT; a study gives mean ± sd over its seeds. */
function gapSection(gaps: readonly Gap[], stages: readonly StageSpec[]): string[] {
  if (gaps.length === 0) return [];
  const label = (name: string) => {
    const s = stages.find((x) => x.name === name);
    return s ? `Stage ${s.stage} ${s.setting} (${s.mt ? 'with' : 'without'} MT)` : name;
  };
  const spread = (name: string) => (gaps.every((g) => g[name]) ? seedSpread(gaps.map((g) => g[name]!.gap)) : null);
  const md = [
    '## Cross-lingual transfer gap (eq. 6)', '',
    mdTable([gaps.length > 1 ? `Model (${gaps.length} seeds)` : 'Model', 'Gap (lower = closer)', 'Paired samples'], Object.entries(gaps[0]!).filter(([, v]) => typeof v?.gap === 'number').map(([k, v]) => [label(k), spread(k) ? formatSeedSpread(spread(k)!) : 'n/a', v.pairs])),
  ];
  const [g0, g1] = TRANSFER_GAP_STAGES.map((n) => spread(n)?.mean);
  if (g0 !== undefined && g1 !== undefined) md.push('', g1 < g0 ? `With the translation task the gap is smaller (${f4(g0)} → ${f4(g1)}), as in the paper (0.689 → 0.676).` : `With the translation task the gap is not smaller here (${f4(g0)} → ${f4(g1)}); the paper saw 0.689 → 0.676.`);
  md.push('');
  return md;
}

/** Per-class scores and the confusion matrix of the best Table-2 row (seed 1 of a study). */
function bestRowSection(rows: readonly Row[], res: Results, seeds: number): string[] {
  const best = rows.reduce((a, b) => (b.f1 > a.f1 ? b : a));
  const ev = res(best.name)[0]!.eval.target;
  return [
    `## Per-class scores of the best setting (${best.setting}, ${best.data}${seeds > 1 ? '; seed 1' : ''})`, '',
    mdTable(['Class', 'Precision', 'Recall', 'F1', 'Support'], ev.perClass.map((p, i) => [CLASS_NAMES[i]!, f4(p.precision), f4(p.recall), f4(p.f1), p.support])), '',
    'Confusion matrix (rows: true, columns: predicted; irrelevant, substitute, exact):', '', '```', ...ev.confusion.map((r) => r.map((v) => String(v).padStart(5)).join('')), '```', '',
  ];
}

/** Seconds per step; a study has a column per seed (steps shared by the seeds took their time in seed 1). */
function timingSection(timings: readonly (readonly Timing[])[], res: Results): string[] {
  const steps = [...new Set(timings.flatMap((t) => t.map((x) => x.stage)))];
  const secs = (t: readonly Timing[], step: string) => t.find((x) => x.stage === step)?.seconds;
  const total = (t: readonly Timing[]) => t.reduce((s, x) => s + x.seconds, 0);
  const s2 = res('stage2')[0];
  const many = timings.length > 1;
  return [
    '## Timing per stage', '',
    mdTable(['Stage', ...(many ? timings.map((_, i) => `seed ${i + 1} (s)`) : ['Seconds'])], steps.map((step) => [step, ...timings.map((t) => secs(t, step)?.toFixed(1) ?? '')])), '',
    `Total: ${many ? `${timings.map((t) => total(t).toFixed(0)).join(' + ')} = ${timings.reduce((s, t) => s + total(t), 0).toFixed(0)}` : total(timings[0] ?? []).toFixed(0)} s. Training throughput of the Stage-2 run${many ? ' (seed 1)' : ''}: ${s2 ? s2.train.tokensPerSec.toFixed(0) : 'n/a'} tokens/s.`, '',
  ];
}

/**
 * Writes report.md, report.json and figure3.svg into `out`. `runs` names the seed folders and the
 * shared folder (market, RQA); a single run is its own seed and shared folder.
 */
export async function writeReport(out: string, c: MethodConfig, runs: ReportRuns = { seeds: [out], shared: out }): Promise<string[]> {
  if (runs.seeds.length === 0) throw new Error(`report: no seed folders for ${out}`);
  const res: Results = (name) => runs.seeds.map((d) => readJsonIf<SftStageResult>(join(d, name, 'result.json'))).filter((r): r is SftStageResult => r !== null);
  const stages = methodStages(c);
  const rows = table2Rows(stages, res);
  if (rows.length === 0) throw new Error(`report: no stage results in ${runs.seeds.join(', ')}`);
  const seeds = runs.seeds.length;
  const device = readJsonIf<{ adapter: string }>(join(runs.seeds[0]!, 'device.json'));
  const timings = runs.seeds.map((d) => readJsonIf<Timing[]>(join(d, 'timings.json')) ?? []);
  const gaps = runs.seeds.map((d) => readJsonIf<Gap>(join(d, 'transfer-gap.json'))).filter((g): g is Gap => g !== null);
  const first = res(rows[0]!.name)[0]!;
  const majority = first.eval.target.majorityRate;
  const cs = collectComparisons(stages, runs);
  const notes = table2Notes(stages, rows, cs);
  const figure3 = figure3Points(stages, runs);
  const files: string[] = [];
  const md = [
    ...headerSection(c, first, device, seeds),
    ...table2Section(rows, majority, notes, seeds),
    ...retrievalSection(runs.shared, cs),
    ...gapSection(gaps, stages),
    ...figure3Section(out, figure3, cs, files),
    ...bestRowSection(rows, res, seeds),
    ...onlineSection(runs.seeds[0]!, seeds),
    ...comparisonNotes(cs, 'Table 3'), '',
    ...comparisonsSection(cs),
    ...settingsSection(c, stages),
    ...timingSection(timings, res),
  ];
  const mdPath = join(out, 'report.md');
  writeAtomic(mdPath, md.join('\n'));
  const jsonPath = join(out, 'report.json');
  writeJson(jsonPath, {
    config: c, device,
    seeds: { count: seeds, folders: runs.seeds.map((d) => relative(out, d) || '.'), sftSeeds: Array.from({ length: seeds }, (_, i) => c.sft.seed + i) },
    table2: rows, majorityRate: majority,
    bootstrap: { resamples: BOOTSTRAP_RESAMPLES, seed: BOOTSTRAP_SEED, level: BOOTSTRAP_LEVEL, unit: 'test query' },
    comparisons: cs.stated, notCompared: cs.missing,
    transferGap: gaps, figure3, timings, notes,
  });
  files.unshift(mdPath, jsonPath);
  return files;
}
