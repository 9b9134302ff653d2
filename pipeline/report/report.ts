// The run's report: a table shaped like the paper's Table 2, the transfer gap (eq. 6), a Figure-3-like
// plot (F1 against the number of target labels, with and without self-distillation), per-class
// scores, timing per stage and the device — every number read from this run's own result files.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJson, readJsonIf, writeJson } from '../io/files.ts';
import type { MethodConfig } from '../stages/config.ts';
import type { SftStageResult } from '../stages/sft-stage.ts';
import { CLASS_NAMES } from '../eval/metrics.ts';
import { linePlot, mdTable } from './svg.ts';
import { onlineSection } from './online-section.ts';

interface Row {
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

export async function writeReport(runDir: string, c: MethodConfig): Promise<string[]> {
  const res = (name: string) => readJsonIf<SftStageResult>(join(runDir, name, 'result.json'));
  const order: [string, string][] = [
    ['stage1-sft', 'Stage 1'],
    ['stage1-sft-mt', 'Stage 1'],
    ['stage1-sft-mt-rqa', 'Stage 1'],
    ['stage2', 'Stage 2'],
    ['stage2-rqa-star', 'Stage 2'],
    ...Array.from({ length: c.sd.rounds }, (_, k) => [`sd-${k + 1}`, 'Stage 2'] as [string, string]),
  ];
  const rows: (Row & { stage: string })[] = [];
  for (const [name, stage] of order) {
    const r = res(name);
    if (!r) continue;
    const setting = name.startsWith('sd-') ? `SFT+MT+SD-${name.slice(3)}` : name.endsWith('rqa-star') ? r.setting.replace('RQA', 'RQA*') : r.setting;
    rows.push({ stage, name, setting, from: r.train.init ?? 'base model', data: r.trainingData, f1: r.eval.target.microF1, aliasF1: r.eval.targetAlias?.microF1 ?? null, sourceF1: r.eval.source.microF1, devF1: r.train.bestDevF1, seconds: r.seconds });
  }
  if (rows.length === 0) throw new Error(`report: no stage results in ${runDir}`);
  const summary = readJsonIf<{ relevance: Record<string, { count: number }> }>(join(runDir, 'data', 'summary.json'));
  const device = readJsonIf<{ adapter: string }>(join(runDir, 'device.json'));
  const timings = readJsonIf<{ stage: string; seconds: number }[]>(join(runDir, 'timings.json')) ?? [];
  const gap = readJsonIf<Record<string, { gap: number; pairs: number }>>(join(runDir, 'transfer-gap.json'));
  const first = res(rows[0]!.name)!;
  const majority = first.eval.target.majorityRate;
  const nTest = first.eval.target.n;

  const md: string[] = [];
  md.push(`# CSRM report — run "${c.name}"`, '');
  md.push(`Device: ${device?.adapter ?? 'unknown'}. Market preset "${c.market.preset}" (seed ${c.market.seed}), model preset "${c.model.preset}" (${first.trainable.total.toLocaleString('en')} parameters; ${first.train.adapter === 'full' ? 'full fine-tuning: every weight trains' : 'LoRA on q/k/v trains'} ${first.trainable.trainable.toLocaleString('en')} = ${(100 * first.trainable.share).toFixed(2)}%).`);
  md.push(`Stage 1 settings start from the base model (${c.sft.steps} steps of batch ${c.sft.batchSize}); Stage 2 and each self-distillation round continue the model named under "starts from" (${c.sft.warmSteps ?? c.sft.steps} steps${c.sft.targetShare ? `, target-market labels upsampled to ${Math.round(100 * c.sft.targetShare)}% of the relevance stream` : ''}). A setting with the translation task takes ${c.sft.mtRatio > 0 ? `1/(1 − ${c.sft.mtRatio}) times as many steps` : 'no extra steps'}, so that it trains on as many relevance samples as without it.`);
  md.push('All numbers below were measured in this run. Checkpoints are chosen on the dev set; the clean target-market test set is used only here.', '');
  md.push('## Table 2 — micro-F1 (eq. 5) on the target-market test set', '');
  md.push(
    mdTable(
      ['Stage', 'Setting', 'Training data', 'Starts from', 'F1 (target test)', 'F1 alias queries', 'F1 (source test)', 'best dev F1'],
      rows.map((r) => [r.stage, r.setting, r.data, r.from, f4(r.f1), f4(r.aliasF1), f4(r.sourceF1), f4(r.devF1)]),
    ),
  );
  md.push('', `Majority-class rate on the target test set: ${f4(majority)} (a model must beat this to have learned anything).`, '');
  const get = (n: string) => rows.find((r) => r.name === n);
  const notes: string[] = [];
  if (get('stage1-sft') && get('stage1-sft-mt')) notes.push(verdict('The auxiliary translation task (Stage 1)', get('stage1-sft')!.f1, get('stage1-sft-mt')!.f1, nTest));
  if (get('stage1-sft-mt') && get('stage2')) notes.push(verdict('Sparse target labels (Stage 2)', get('stage1-sft-mt')!.f1, get('stage2')!.f1, nTest));
  for (let k = 1; k <= c.sd.rounds; k++) {
    const p = k === 1 ? get('stage2') : get(`sd-${k - 1}`);
    if (p && get(`sd-${k}`)) notes.push(verdict(`Self-distillation round ${k}`, p.f1, get(`sd-${k}`)!.f1, nTest));
  }
  if (!get('stage1-sft-mt-rqa')) notes.push('RQA rows are absent: the retrieval-based query augmentation stage is not part of this run.');
  md.push(...notes.map((n) => `- ${n}`), '');

  // Section 5.2: retrieval accuracy of BM25 / EBR (rqa/) and EBR* (rqa-star/) on the target queries.
  const accRows = ['rqa', 'rqa-star'].flatMap((d) => readJsonIf<{ k: number; truth: string; rows: { name: string; all: { top1: number; anyOfK: number; queries: number }; alias: { top1: number; anyOfK: number; queries: number } }[] }>(join(runDir, d, 'retrieval-accuracy.json')) ?? []);
  if (accRows.length > 0) {
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    md.push('## Retrieval accuracy (section 5.2)', '');
    md.push(mdTable(['Retriever', 'top-1', `any of top ${accRows[0]!.k}`, 'queries', 'alias top-1', `alias any of top ${accRows[0]!.k}`, 'alias queries'],
      accRows.flatMap((a) => a.rows).map((r) => [r.name, pct(r.all.top1), pct(r.all.anyOfK), r.all.queries, pct(r.alias.top1), pct(r.alias.anyOfK), r.alias.queries])), '');
    md.push(`The paper's raters saw 65% (BM25) → 82% (EBR) → 88% (EBR*). Truth here: ${accRows[0]!.truth}.`, '');
  }

  if (gap) {
    md.push('## Cross-lingual transfer gap (eq. 6)', '');
    md.push(mdTable(['Model', 'Gap (lower = closer)', 'Paired samples'], Object.entries(gap).map(([k, v]) => [k === 'stage1-sft' ? 'Stage 1 SFT (without MT)' : 'Stage 1 SFT+MT (with MT)', f4(v.gap), v.pairs])));
    const g0 = gap['stage1-sft']?.gap;
    const g1 = gap['stage1-sft-mt']?.gap;
    if (g0 !== undefined && g1 !== undefined) md.push('', g1 < g0 ? `With the translation task the gap is smaller (${f4(g0)} → ${f4(g1)}), as in the paper (0.689 → 0.676).` : `With the translation task the gap is not smaller here (${f4(g0)} → ${f4(g1)}); the paper saw 0.689 → 0.676.`);
    md.push('');
  }

  // Figure 3
  const files: string[] = [];
  const tgtTrain = summary ? Object.entries(summary.relevance).find(([k]) => k.endsWith('/train') && !k.startsWith(Object.keys(summary.relevance)[0]!.split('/')[0]!))?.[1].count ?? 0 : 0;
  const pts = (name: string, n: number): [number, number] | null => {
    const r = res(name);
    return r ? [n, r.eval.target.microF1] : null;
  };
  const without: [number, number][] = [];
  const withSd: [number, number][] = [];
  const s1 = pts('stage1-sft-mt', 0);
  if (s1) without.push(s1);
  for (const f of [...c.figure3.fractions, 1]) {
    const n = Math.round(tgtTrain * f);
    const a = pts(f === 1 ? 'stage2' : `stage2-${Math.round(f * 100)}`, n);
    const b = pts(f === 1 ? 'sd-1' : `sd-1-${Math.round(f * 100)}`, n);
    if (a) without.push(a);
    if (b) withSd.push(b);
  }
  if (without.length > 1 || withSd.length > 0) {
    const svg = linePlot({
      title: 'F1 vs. number of target-market training labels',
      xLabel: 'target training labels',
      yLabel: 'micro-F1 (target test)',
      series: [
        { name: 'without SD', points: without },
        { name: 'with SD (1 round)', points: withSd, dashed: true },
      ].filter((s) => s.points.length > 0),
    });
    writeFileSync(join(runDir, 'figure3.svg'), svg);
    files.push(join(runDir, 'figure3.svg'));
    md.push('## Figure 3 — F1 against the number of target labels', '', '![Figure 3](figure3.svg)', '');
    md.push(mdTable(['Target labels', 'without SD', 'with SD-1'], without.map(([n, f]) => [n, f4(f), f4(withSd.find((p) => p[0] === n)?.[1])])), '');
  }

  // per-class scores of the best Table-2 row
  const best = rows.reduce((a, b) => (b.f1 > a.f1 ? b : a));
  const br = res(best.name)!;
  md.push(`## Per-class scores of the best setting (${best.setting}, ${best.data})`, '');
  md.push(mdTable(['Class', 'Precision', 'Recall', 'F1', 'Support'], br.eval.target.perClass.map((p, i) => [CLASS_NAMES[i]!, f4(p.precision), f4(p.recall), f4(p.f1), p.support])), '');
  md.push('Confusion matrix (rows: true, columns: predicted; irrelevant, substitute, exact):', '', '```', ...br.eval.target.confusion.map((r) => r.map((v) => String(v).padStart(5)).join('')), '```', '');

  md.push(...onlineSection(runDir));
  md.push('## Timing per stage', '');
  md.push(mdTable(['Stage', 'Seconds'], timings.map((t) => [t.stage, t.seconds.toFixed(1)])), '');
  const total = timings.reduce((s, t) => s + t.seconds, 0);
  md.push(`Total: ${total.toFixed(0)} s. Training throughput of the Stage-2 run: ${res('stage2') ? res('stage2')!.train.tokensPerSec.toFixed(0) : 'n/a'} tokens/s.`, '');

  const mdPath = join(runDir, 'report.md');
  writeFileSync(mdPath, md.join('\n'));
  const jsonPath = join(runDir, 'report.json');
  writeJson(jsonPath, { config: c, device, table2: rows, majorityRate: majority, transferGap: gap, figure3: { without, withSd }, timings, notes });
  files.unshift(mdPath, jsonPath);
  void existsSync;
  void readJson;
  return files;
}
