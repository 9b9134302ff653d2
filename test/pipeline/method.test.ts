// The whole method end to end on the tiny market with a tiny model and few steps: every stage runs,
// writes its files, resumes, and the report carries every section. (Whether the model learns the
// task is learns.test.ts's check; this one keeps the default LoRA adapters, so both paths run in CI.)
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadConfig, SFT_KNOBS, type MethodConfig } from '../../pipeline/stages/config.ts';
import { runMethod } from '../../pipeline/stages/method.ts';
import { rqaConfig } from '../../pipeline/stages/rqa-stage.ts';
import { stageSteps, type SftStageResult } from '../../pipeline/stages/sft-stage.ts';
import { methodStages } from '../../pipeline/stages/stage-table.ts';
import { readSoftLabelFile } from '../../pipeline/stages/label.ts';

it('runs generate → pretrain → Stage 1 (±MT, +RQA) → Stage 2 (+RQA*) → SD → online → report, and resumes', async () => {
  const base = loadConfig('tiny');
  const c: MethodConfig = {
    ...base,
    name: 'tiny-test',
    pretrain: { ...base.pretrain, steps: 20 },
    sft: { ...base.sft, steps: 12, evalEvery: 6 },
    sd: { rounds: 1, alpha: 0.5 },
    figure3: { fractions: [] },
    rqa: { ...base.rqa, ranker: { ...rqaConfig(base.rqa).ranker, steps: 8, batchSize: 8 }, ebr: { ...rqaConfig(base.rqa).ebr, steps: 10, batchSize: 16, negatives: 16 } },
    online: { maxQueries: 6, steps: 8 },
  };
  const dir = mkdtempSync(join(tmpdir(), 'csrm-method-'));
  const lines: string[] = [];
  await runMethod(c, dir, { quiet: true, log: (s) => lines.push(s) });
  for (const f of ['report.md', 'report.json', 'transfer-gap.json', 'timings.json', 'stage1-sft/result.json', 'stage1-sft-mt/result.json', 'stage1-sft-mt-rqa/result.json', 'stage2/result.json', 'stage2-rqa-star/result.json', 'sd-1/result.json', 'sd-1/soft-labels.jsonl', 'online/result.json']) {
    expect(existsSync(join(dir, f)), f).toBe(true);
  }
  const read = <T>(f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as T;
  const report = read<{ table2: { name: string; setting: string; from: string; f1: number }[] }>('report.json');
  expect(report.table2.map((r) => r.name)).toEqual(['stage1-sft', 'stage1-sft-mt', 'stage1-sft-mt-rqa', 'stage2', 'stage2-rqa-star', 'sd-1']);
  expect(report.table2.map((r) => r.setting)).toEqual(['SFT', 'SFT+MT', 'SFT+MT+RQA', 'SFT+MT', 'SFT+MT+RQA*', 'SFT+MT+SD-1']);
  expect(report.table2.map((r) => r.from)).toEqual(['base model', 'base model', 'base model', 'stage1-sft-mt', 'stage1-sft-mt-rqa', 'stage2']);
  for (const s of methodStages(c)) {
    const r = read<SftStageResult>(`${s.name}/result.json`);
    // the report's F1 is the stage's own, and micro-F1 is the confusion matrix's diagonal over n
    const t = r.eval.target;
    expect(report.table2.find((x) => x.name === s.name)!.f1).toBe(t.microF1);
    expect(t.confusion.flat().reduce((a, b) => a + b, 0)).toBe(t.n);
    expect(t.microF1).toBeCloseTo(t.confusion.reduce((a, row, i) => a + row[i]!, 0) / t.n, 12);
    // each stage trained its table's budget: Stage 1 `steps`, a continued stage `warmSteps`, more with MT
    const history = read<{ step: number }[]>(`${s.name}/history.json`);
    expect(history.at(-1)!.step, s.name).toBe(stageSteps(s.startsFrom ? c.sft.warmSteps : c.sft.steps, s.mt, c.sft.mtRatio));
  }
  // the self-distillation round trained on soft labels for each of its training records
  const soft = await readSoftLabelFile(join(dir, 'sd-1/soft-labels.jsonl'));
  expect(soft.labels.size).toBe(read<SftStageResult>('sd-1/result.json').train.samples);
  const md = readFileSync(join(dir, 'report.md'), 'utf8');
  for (const h of ['Table 2', 'transfer gap', 'Retrieval accuracy', 'Table 3', 'Stages and settings', 'Timing per stage']) expect(md).toContain(h);
  for (const k of Object.keys(SFT_KNOBS)) expect(md).toContain(`| ${k} |`);
  // a rerun finds every stage done: no stage's files are rewritten, only the report
  const stamp = (f: string) => statSync(join(dir, f)).mtimeMs;
  const before = ['stage2/result.json', 'stage2/best.ckpt', 'sd-1/soft-labels.jsonl', 'online/result.json', 'base.ckpt'].map(stamp);
  await runMethod(c, dir, { quiet: true, log: () => undefined });
  expect(['stage2/result.json', 'stage2/best.ckpt', 'sd-1/soft-labels.jsonl', 'online/result.json', 'base.ckpt'].map(stamp)).toEqual(before);
  expect(lines.some((l) => l.startsWith('report:'))).toBe(true);
  rmSync(dir, { recursive: true });
}, 900_000);
