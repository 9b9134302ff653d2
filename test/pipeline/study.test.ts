// `csrm study` on the tiny market with two fine-tuning seeds and a handful of steps: the seeds share
// the market, base model and RQA runs, each seed's stages run in its own folder with its own sft.seed,
// the report pools them (rows as mean ± sd, paired comparisons over both seeds, Figure 3 with error
// bars at four points), and a rerun resumes without retraining anything.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { verdictOf } from '../../pipeline/eval/paired-comparison.ts';
import type { StatedComparison } from '../../pipeline/report/comparisons.ts';
import type { Figure3Point } from '../../pipeline/report/figure3-section.ts';
import { loadConfig, type MethodConfig } from '../../pipeline/stages/config.ts';
import { rqaConfig } from '../../pipeline/stages/rqa-stage.ts';
import type { SftStageResult } from '../../pipeline/stages/sft-stage.ts';
import { runStudy } from '../../pipeline/stages/study.ts';

it('runs the fine-tuning stages with 2 seeds on one market and reports them pooled, and resumes', async () => {
  const base = loadConfig('tiny');
  const c: MethodConfig = {
    ...base,
    name: 'tiny-study',
    pretrain: { ...base.pretrain, steps: 10 },
    sft: { ...base.sft, steps: 6, warmSteps: 4, evalEvery: 6 },
    sd: { rounds: 1, alpha: 0.5 },
    figure3: { fractions: [0.25, 0.5] },
    rqa: { ...base.rqa, ranker: { ...rqaConfig(base.rqa).ranker, steps: 4, batchSize: 8 }, ebr: { ...rqaConfig(base.rqa).ebr, steps: 6, batchSize: 16, negatives: 16 } },
    online: { maxQueries: 4, steps: 4 },
  };
  const dir = mkdtempSync(join(tmpdir(), 'csrm-study-'));
  await runStudy(c, dir, 2, { quiet: true, log: () => undefined });

  // shared once at the top, the stages per seed
  for (const f of ['data/summary.json', 'base.ckpt', 'rqa/result.json', 'rqa-star/result.json', 'study.json', 'report.md', 'report.json', 'figure3.svg']) expect(existsSync(join(dir, f)), f).toBe(true);
  for (const k of [1, 2]) {
    expect(existsSync(join(dir, `seed-${k}`, 'data')), `seed-${k} has no market of its own`).toBe(false);
    for (const f of ['stage1-sft/result.json', 'sd-1-25/result.json', 'online/result.json', 'transfer-gap.json', 'report.md']) expect(existsSync(join(dir, `seed-${k}`, f)), `seed-${k}/${f}`).toBe(true);
  }
  const read = <T>(f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as T;
  const history = (k: number) => read<{ loss: number }[]>(`seed-${k}/stage1-sft/history.json`);
  expect(history(2)[0]!.loss, 'seed 2 trains with its own seed').not.toBe(history(1)[0]!.loss);

  const report = read<{ seeds: { count: number; sftSeeds: number[] }; table2: { name: string; f1: number; f1Seeds: { n: number; values: number[] } }[]; comparisons: StatedComparison[]; figure3: Figure3Point[] }>('report.json');
  expect(report.seeds).toMatchObject({ count: 2, sftSeeds: [c.sft.seed, c.sft.seed + 1] });
  const f1 = (k: number, name: string) => read<SftStageResult>(`seed-${k}/${name}/result.json`).eval.target.microF1;
  for (const row of report.table2) {
    expect(row.f1Seeds.values).toEqual([f1(1, row.name), f1(2, row.name)]);
    expect(row.f1).toBeCloseTo((f1(1, row.name) + f1(2, row.name)) / 2, 12);
  }
  // every stated difference: pooled over both seeds, its mean difference, and the verdict of its interval
  const stated = report.comparisons;
  expect(stated.filter((x) => x.section === 'Table 2').map((x) => x.to)).toEqual(['stage1-sft-mt', 'stage1-sft-mt-rqa', 'stage2', 'stage2-rqa-star', 'sd-1']);
  expect(stated.filter((x) => x.section === 'Figure 3').map((x) => x.to)).toEqual(['sd-1-25', 'sd-1-50']);
  expect(stated.filter((x) => x.section === 'Retrieval accuracy').map((x) => `${x.from}→${x.to}`)).toEqual(['BM25→EBR', 'BM25→EBR', 'EBR→EBR*', 'EBR→EBR*']);
  expect(stated.filter((x) => x.section === 'Table 3').map((x) => x.measure)).toHaveLength(6);
  for (const x of stated) {
    expect(x.verdict, `${x.what} ${x.measure}`).toBe(verdictOf(x.lo, x.hi));
    expect(x.resamples).toBeGreaterThanOrEqual(2000);
    expect(x.pValue).toBeGreaterThan(0);
    expect(x.pValue).toBeLessThanOrEqual(1);
    if (x.section === 'Table 2' || x.section === 'Figure 3') {
      expect(x.seeds).toBe(2);
      expect(x.delta).toBeCloseTo((f1(1, x.to) - f1(1, x.from) + f1(2, x.to) - f1(2, x.from)) / 2, 12);
    }
  }
  // Figure 3: 0, 16, 32 and 64 target labels without SD, each with an error bar in the SVG
  const without = report.figure3.filter((p) => !p.sd);
  expect(without.map((p) => p.labels)).toEqual([0, 16, 32, 64]);
  for (const p of report.figure3) expect(p.lo! <= p.hi!).toBe(true);
  const svg = readFileSync(join(dir, 'figure3.svg'), 'utf8');
  expect(svg.match(/class="error-bar"/g)).toHaveLength(report.figure3.length);
  const md = readFileSync(join(dir, 'report.md'), 'utf8');
  for (const h of ['study of 2 fine-tuning seeds', 'mean ± sd of 2 seeds', 'Paired comparisons', 'seed 2 (s)']) expect(md).toContain(h);

  // a rerun trains nothing; a different config in the same folder is refused
  const stamp = (f: string) => statSync(join(dir, f)).mtimeMs;
  const files = ['base.ckpt', 'rqa/result.json', 'seed-1/stage2/result.json', 'seed-2/sd-1/result.json', 'seed-2/online/result.json'];
  const before = files.map(stamp);
  await runStudy(c, dir, 2, { quiet: true, log: () => undefined });
  expect(files.map(stamp)).toEqual(before);
  await expect(runStudy({ ...c, sd: { rounds: 2, alpha: 0.5 } }, dir, 2, { quiet: true, log: () => undefined })).rejects.toThrow(/study.json records a study of another config/);
  rmSync(dir, { recursive: true });
}, 600_000);
