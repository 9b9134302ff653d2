// Figure 3 of the paper: target-test micro-F1 against the number of target-market training labels,
// without and with one self-distillation round. Each point is the mean over the fine-tuning seeds
// with its 95% query-bootstrap interval (pooled over seeds) as an error bar; the table beside it
// gives the paired difference SD − no SD at each point.
import { join } from 'node:path';
import { microF1Scored } from '../eval/count-metrics.ts';
import { metricBootstrap, type BootstrapOpts } from '../eval/paired-bootstrap.ts';
import { formatComparison } from '../eval/paired-comparison.ts';
import { checkSameSamples, fromDigits, readTestSamples } from '../eval/sample-predictions.ts';
import { readJsonIf, writeAtomic } from '../io/files.ts';
import type { SftStageResult } from '../stages/sft-stage.ts';
import type { StageSpec } from '../stages/stage-table.ts';
import type { Comparisons, ReportRuns } from './comparisons.ts';
import { linePlot, mdTable } from './svg.ts';

export interface Figure3Point {
  stage: string;
  /** Target-market training labels the stage saw. */
  labels: number;
  sd: boolean;
  /** Mean micro-F1 over the seeds that have the stage. */
  f1: number;
  seeds: number;
  /** 95% interval of the mean (query bootstrap); null when the result files lack per-sample predictions. */
  lo: number | null;
  hi: number | null;
}

/** Target-market training labels of the market (data/summary.json), the x axis. */
function targetTrainLabels(shared: string): number {
  const summary = readJsonIf<{ relevance: Record<string, { count: number }> }>(join(shared, 'data', 'summary.json'));
  if (!summary) return 0;
  const source = Object.keys(summary.relevance)[0]!.split('/')[0]!;
  return Object.entries(summary.relevance).find(([k]) => k.endsWith('/train') && !k.startsWith(source))?.[1].count ?? 0;
}

/** F1 (mean over seeds) of one stage with its pooled interval. */
function point(s: StageSpec, results: SftStageResult[], labels: number, opts: BootstrapOpts): Figure3Point {
  const f1 = results.reduce((t, r) => t + r.eval.target.microF1, 0) / results.length;
  const base = { stage: s.name, labels, sd: s.figure3!.sd, f1, seeds: results.length, lo: null, hi: null };
  const samples = results.map((r) => r.eval.targetSamples);
  if (samples.some((x) => !x)) return base;
  const { truth, clusters } = readTestSamples(samples[0]!, `${s.name} (seed 1)`);
  samples.forEach((x, i) => checkSameSamples(samples[0]!, x, `${s.name} (seed 1)`, `${s.name} (seed ${i + 1})`));
  const counts = samples.map((x, i) => microF1Scored(truth, fromDigits(x.pred, x.n, `${s.name} (seed ${i + 1}) predictions`)));
  const m = metricBootstrap({ metric: counts[0]!.metric, clusters, seeds: counts.map((c) => c.counts) }, opts);
  return { ...base, lo: m.lo, hi: m.hi };
}

/** Every stage with a Figure-3 point that has results, by number of target labels. */
export function figure3Points(stages: readonly StageSpec[], runs: ReportRuns, opts: BootstrapOpts = {}): Figure3Point[] {
  const n = targetTrainLabels(runs.shared);
  return stages
    .flatMap((s) => {
      if (!s.figure3) return [];
      const results = runs.seeds.map((d) => readJsonIf<SftStageResult>(join(d, s.name, 'result.json'))).filter((r): r is SftStageResult => r !== null);
      return results.length ? [point(s, results, Math.round(n * s.figure3.fraction), opts)] : [];
    })
    .sort((a, b) => a.labels - b.labels);
}

const f4 = (x: number) => x.toFixed(4);
const withInterval = (p: Figure3Point | undefined) => (!p ? 'n/a' : p.lo === null ? f4(p.f1) : `${f4(p.f1)} [${f4(p.lo)}, ${f4(p.hi!)}]`);

export function figure3Section(out: string, points: readonly Figure3Point[], cs: Comparisons, files: string[]): string[] {
  const without = points.filter((p) => !p.sd);
  const withSd = points.filter((p) => p.sd);
  if (without.length <= 1 && withSd.length === 0) return [];
  const series = (ps: Figure3Point[]) => ({ points: ps.map((p): [number, number] => [p.labels, p.f1]), errors: ps.map((p): [number, number] | null => (p.lo === null ? null : [p.lo, p.hi!])) });
  const svg = linePlot({
    title: 'F1 vs. number of target-market training labels',
    xLabel: 'target training labels',
    yLabel: 'micro-F1 (target test), 95% interval',
    series: [
      { name: 'without SD', ...series(without) },
      { name: 'with SD (1 round)', ...series(withSd), dashed: true },
    ].filter((s) => s.points.length > 0),
  });
  const path = join(out, 'figure3.svg');
  writeAtomic(path, svg);
  files.push(path);
  const seeds = Math.max(...points.map((p) => p.seeds));
  const sdDelta = (p: Figure3Point | undefined) => {
    const c = p && cs.stated.find((x) => x.to === p.stage);
    return c ? formatComparison(c) : 'n/a';
  };
  const labels = [...new Set(points.map((p) => p.labels))].sort((a, b) => a - b);
  return [
    '## Figure 3 — F1 against the number of target labels', '', '![Figure 3](figure3.svg)', '',
    `Each point: micro-F1 on the target test set${seeds > 1 ? `, mean of ${seeds} fine-tuning seeds` : ''}, with its 95% query-bootstrap interval (the error bars).`, '',
    mdTable(
      ['Target labels', 'without SD', 'with SD-1', 'SD-1 − without SD (paired)'],
      labels.map((n) => {
        const w = withSd.find((p) => p.labels === n);
        return [n, withInterval(without.find((p) => p.labels === n)), withInterval(w), sdDelta(w)];
      }),
    ),
    '',
  ];
}
