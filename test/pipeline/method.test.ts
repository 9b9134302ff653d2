// The whole method end to end, as `csrm demo --config FILE --lexicon FILE` runs it on a market it was
// not tuned on (the project's second lexicon, home-hobby-kr-tw) at the tiny size with a tiny model and
// few steps, under another name, as a user's own lexicon: the demo trains the market's own tokenizer
// and base model (the committed ones were made for the project's two lexicons), every stage runs on them, writes its files with what it was made from,
// resumes, and the report carries every section. (Whether the model learns the task is
// learns.test.ts's check; this one keeps the default LoRA adapters, so both paths run in CI.)
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { readCheckpointMeta } from '../../engine/index.ts';
import { csrm } from '../../pipeline/cli/csrm.ts';
import { loadConfig, SFT_KNOBS, type MethodConfig } from '../../pipeline/stages/config.ts';
import { runMethod } from '../../pipeline/stages/method.ts';
import type { BaseMeta } from '../../pipeline/stages/model-io.ts';
import { readTokenizerRecord, tokenizerHash } from '../../pipeline/tokenizer/tokenizer-record.ts';
import { DEFAULT_MODEL } from '../../pipeline/tokenizer/tokenizer.ts';
import { rqaConfig } from '../../pipeline/stages/rqa-stage.ts';
import { stageSteps, type SftStageResult } from '../../pipeline/stages/sft-stage.ts';
import { methodStages } from '../../pipeline/stages/stage-table.ts';
import { readSoftLabelFile } from '../../pipeline/stages/label.ts';
import { verdictOf } from '../../pipeline/eval/paired-comparison.ts';
import type { StatedComparison } from '../../pipeline/report/comparisons.ts';

const HOME_HOBBY = join(import.meta.dirname, '../../pipeline/data/lexicon/home-hobby-kr-tw.json');

it('runs generate → tokenizer → pretrain → Stage 1 (±MT, +RQA) → Stage 2 (+RQA*) → SD → online → report on another lexicon, and resumes', async () => {
  const base = loadConfig('tiny');
  const small = {
    ...base,
    name: 'tiny-test',
    pretrain: { ...base.pretrain, steps: 20 },
    // translated twins on: Stage 2, its self-distillation round (labels for the twins too) and RQA* run with them;
    // Stage 1's RQA run continues SFT+MT, as in the demo
    sft: { ...base.sft, steps: 12, warmSteps: 12, evalEvery: 6, translatedTwins: true, twinsWithTranslation: true, rqaContinues: true },
    sd: { rounds: 1, alpha: 0.5 },
    figure3: { fractions: [] },
    rqa: { ...base.rqa, ranker: { ...rqaConfig(base.rqa).ranker, steps: 8, batchSize: 8 }, ebr: { ...rqaConfig(base.rqa).ebr, steps: 10, batchSize: 16, negatives: 16 } },
    online: { maxQueries: 6, steps: 8 },
  };
  const dir = mkdtempSync(join(tmpdir(), 'csrm-method-'));
  // a user's own lexicon: the home-hobby one under another name, so no committed tokenizer fits it
  const lexicon = join(dir, 'my-market.json');
  const lex = JSON.parse(readFileSync(HOME_HOBBY, 'utf8'));
  writeFileSync(lexicon, JSON.stringify({ ...lex, name: `${lex.name} (a user's copy)` }));
  const file = join(dir, 'tiny-test.json');
  writeFileSync(file, JSON.stringify({ ...small, market: { preset: small.market.preset, seed: small.market.seed }, tokenizer: undefined }));
  expect(await csrm(['demo', '--config', file, '--lexicon', lexicon, '--run', dir])).toBe(0);
  const c: MethodConfig = { ...small, market: { ...small.market, lexicon } };
  // its own tokenizer and base model, made for this market
  const summary = JSON.parse(readFileSync(join(dir, 'data/summary.json'), 'utf8'));
  expect(summary.fingerprint.lexicon.file).toBe(lexicon);
  const tok = join(dir, 'tokenizer/csrm-spm.model');
  expect(readTokenizerRecord(tok)?.lexicon?.sha256).toBe(summary.fingerprint.lexicon.sha256);
  expect(tokenizerHash(tok)).not.toBe(tokenizerHash(DEFAULT_MODEL));
  const baseMeta = (await readCheckpointMeta(join(dir, 'base.ckpt'))).meta as BaseMeta;
  expect(baseMeta.market?.fingerprint).toBe(summary.fingerprint.sha256);
  expect(baseMeta.tokenizer?.sha256).toBe(tokenizerHash(tok));
  for (const f of ['report.md', 'report.json', 'transfer-gap.json', 'timings.json', 'stage1-sft/result.json', 'stage1-sft-mt/result.json', 'stage1-sft-mt-rqa/result.json', 'stage2/result.json', 'stage2-rqa-star/result.json', 'sd-1/result.json', 'sd-1/soft-labels.jsonl', 'online/result.json']) {
    expect(existsSync(join(dir, f)), f).toBe(true);
  }
  const read = <T>(f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as T;
  const report = read<{ table2: { name: string; setting: string; from: string; f1: number }[] }>('report.json');
  expect(report.table2.map((r) => r.name)).toEqual(['stage1-sft', 'stage1-sft-mt', 'stage1-sft-mt-rqa', 'stage2', 'stage2-rqa-star', 'sd-1']);
  expect(report.table2.map((r) => r.setting)).toEqual(['SFT', 'SFT+MT', 'SFT+MT+RQA', 'SFT+MT', 'SFT+MT+RQA*', 'SFT+MT+SD-1']);
  expect(report.table2.map((r) => r.from)).toEqual(['base model', 'base model', 'stage1-sft-mt', 'stage1-sft-mt', 'stage1-sft-mt-rqa', 'stage2']);
  for (const s of methodStages(c)) {
    const r = read<SftStageResult>(`${s.name}/result.json`);
    expect(r.provenance.hashes.tokenizer, s.name).toBe(tokenizerHash(tok));
    // the report's F1 is the stage's own, and micro-F1 is the confusion matrix's diagonal over n
    const t = r.eval.target;
    expect(report.table2.find((x) => x.name === s.name)!.f1).toBe(t.microF1);
    expect(t.confusion.flat().reduce((a, b) => a + b, 0)).toBe(t.n);
    expect(t.microF1).toBeCloseTo(t.confusion.reduce((a, row, i) => a + row[i]!, 0) / t.n, 12);
    // the per-sample predictions kept for paired comparisons give back the same F1
    const ps = r.eval.targetSamples;
    expect(ps.n).toBe(t.n);
    expect([...ps.pred].filter((p, i) => p === ps.truth[i]).length / ps.n).toBeCloseTo(t.microF1, 12);
    // each stage trained its table's budget: Stage 1 `steps`, a continued stage `warmSteps`, more with MT
    const history = read<{ step: number }[]>(`${s.name}/history.json`);
    expect(history.at(-1)!.step, s.name).toBe(stageSteps(s.startsFrom ? c.sft.warmSteps : c.sft.steps, s.mt, c.sft.mtRatio));
  }
  // the self-distillation round trained on soft labels for each of its training records
  const soft = await readSoftLabelFile(join(dir, 'sd-1/soft-labels.jsonl'));
  expect(soft.labels.size).toBe(read<SftStageResult>('sd-1/result.json').train.samples);
  // every difference the report states has its paired interval, p-value and the verdict of its interval
  const { comparisons } = read<{ comparisons: StatedComparison[] }>('report.json');
  expect(comparisons.filter((x) => x.section === 'Table 2').map((x) => `${x.from}→${x.to}`)).toEqual(['stage1-sft→stage1-sft-mt', 'stage1-sft-mt→stage1-sft-mt-rqa', 'stage1-sft-mt→stage2', 'stage2→stage2-rqa-star', 'stage2→sd-1']);
  expect(new Set(comparisons.map((x) => x.section))).toEqual(new Set(['Table 2', 'Retrieval accuracy', 'Table 3']));
  for (const x of comparisons) expect([x.seeds, x.verdict]).toEqual([1, verdictOf(x.lo, x.hi)]);
  const md = readFileSync(join(dir, 'report.md'), 'utf8');
  for (const h of ['Table 2', 'transfer gap', 'Retrieval accuracy', 'Table 3', 'Paired comparisons', 'Stages and settings', 'Timing per stage']) expect(md).toContain(h);
  for (const k of Object.keys(SFT_KNOBS)) expect(md).toContain(`| ${k} |`);
  expect(md).toContain('except SFT+MT+RQA (sft.rqaContinues)');
  expect(md).toContain('Not in the paper: Stage 1\'s settings with the translation task (sft.twinsWithTranslation) and Stage 2');
  // Stage 1 learns the twins only in its runs with the translation task; Stage 2 with them
  const samples = (n: string) => read<SftStageResult>(`${n}/result.json`).train.samples;
  expect(samples('stage1-sft-mt')).toBeGreaterThan(samples('stage1-sft'));
  expect(samples('stage1-sft-mt-rqa')).toBe(samples('stage1-sft-mt'));
  // a rerun finds every stage done: no stage's files are rewritten, only the report
  const stamp = (f: string) => statSync(join(dir, f)).mtimeMs;
  const kept = ['stage2/result.json', 'stage2/best.ckpt', 'sd-1/soft-labels.jsonl', 'online/result.json', 'base.ckpt', 'tokenizer/csrm-spm.model'];
  const before = kept.map(stamp);
  const lines: string[] = [];
  await runMethod(c, dir, { quiet: true, log: (s) => lines.push(s) });
  expect(kept.map(stamp)).toEqual(before);
  expect(lines.some((l) => l.startsWith('report:'))).toBe(true);
  rmSync(dir, { recursive: true });
}, 900_000);
