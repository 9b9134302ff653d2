// The whole method end to end on the tiny market with a tiny model and few steps: every stage runs,
// writes its files, resumes, and the report carries every section. (Whether the model learns the
// task is learns.test.ts's check; this one keeps the default LoRA adapters, so both paths run in CI.)
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadConfig, type MethodConfig } from '../../pipeline/stages/config.ts';
import { runMethod } from '../../pipeline/stages/method.ts';
import { rqaConfig } from '../../pipeline/stages/rqa-stage.ts';

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
  const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { table2: { name: string; f1: number }[] };
  expect(report.table2.map((r) => r.name)).toEqual(['stage1-sft', 'stage1-sft-mt', 'stage1-sft-mt-rqa', 'stage2', 'stage2-rqa-star', 'sd-1']);
  for (const r of report.table2) expect(r.f1).toBeGreaterThanOrEqual(0);
  const md = readFileSync(join(dir, 'report.md'), 'utf8');
  for (const h of ['Table 2', 'transfer gap', 'Retrieval accuracy', 'Table 3', 'Timing per stage']) expect(md).toContain(h);
  // a rerun finds every stage done: no stage's files are rewritten, only the report
  const stamp = (f: string) => statSync(join(dir, f)).mtimeMs;
  const before = ['stage2/result.json', 'stage2/best.ckpt', 'sd-1/soft-labels.jsonl', 'online/result.json', 'base.ckpt'].map(stamp);
  await runMethod(c, dir, { quiet: true, log: () => undefined });
  expect(['stage2/result.json', 'stage2/best.ckpt', 'sd-1/soft-labels.jsonl', 'online/result.json', 'base.ckpt'].map(stamp)).toEqual(before);
  expect(lines.some((l) => l.startsWith('report:'))).toBe(true);
  rmSync(dir, { recursive: true });
}, 900_000);
