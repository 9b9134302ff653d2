// Fault injection, `csrm label` (issue 15, case 4): resuming into a soft-label file that another
// model wrote, or one that does not say which model wrote it, is refused naming both; the file is
// left as it was. A torn last line from a killed run is dropped, said so, and labelled again.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateMarket } from '../../pipeline/data/market/generate.ts';
import type { RelevanceRecord } from '../../pipeline/data/schema.ts';
import { labelModel, labelRecords, readSoftLabelFile, readSoftLabels, type LabelModel } from '../../pipeline/stages/label.ts';
import { loadAdapters, loadBase } from '../../pipeline/stages/model-io.ts';
import { stageAdapters } from './stage-adapters.ts';
import { loadTokenizer, type Tokenizer } from '../../pipeline/tokenizer/tokenizer.ts';
import { disposeLlama, type Llama } from '../../models/llama.ts';

const dir = mkdtempSync(join(tmpdir(), 'csrm-label-faults-'));
const BASE = join(import.meta.dirname, '../../pipeline/base/demo-tiny.ckpt');
const MAX_LEN = 112;
const recs: RelevanceRecord[] = generateMarket({ preset: 'tiny', seed: 4 }).relevance.filter((r) => r.market === 'TW' && r.split === 'train').slice(0, 6);
let tok: Tokenizer;
let model: Llama;
let stageA: LabelModel;
let stageB: LabelModel;

const adapters = (seed: number) => stageAdapters(BASE, dir, seed);

beforeAll(async () => {
  tok = await loadTokenizer();
  const [a, b] = [await adapters(1), await adapters(2)];
  const base = await loadBase(BASE);
  model = base.model;
  await loadAdapters(model, a, base);
  stageA = await labelModel(BASE, a, MAX_LEN);
  stageB = await labelModel(BASE, b, MAX_LEN);
});
afterAll(() => disposeLlama(model));

describe('soft labels resume only into a file the same model wrote', () => {
  const out = join(dir, 'soft-labels.jsonl');

  it('records the model, and resumes into its own file', async () => {
    const first = await labelRecords(model, tok, recs, MAX_LEN, out, { model: stageA, quiet: true });
    expect(first).toMatchObject({ labelled: 6, resumedFrom: 0 });
    const f = await readSoftLabelFile(out);
    expect(f.model).toEqual(stageA);
    expect(f.labels.size).toBe(6);
    expect((await readSoftLabels(out)).size).toBe(6); // what `csrm sft --soft-labels` reads: the header is not a label
    const again = await labelRecords(model, tok, recs, MAX_LEN, out, { model: stageA, quiet: true });
    expect(again).toMatchObject({ labelled: 0, resumedFrom: 6 });
  });

  it('refuses another model, naming both, and leaves the file as it was', async () => {
    const before = readFileSync(out);
    const err = await labelRecords(model, tok, [...recs, ...recs.map((r) => ({ ...r, query_id: `${r.query_id}-x` }))], MAX_LEN, out, { model: stageB, quiet: true }).catch((e: Error) => e);
    expect(String(err)).toContain(`${out} holds soft labels of base ${BASE}`);
    expect(String(err)).toContain(stageA.adapters.path);
    expect(String(err)).toContain(`this run labels with base ${BASE} (sha256 ${stageB.base.sha256.slice(0, 12)}…) + ${stageB.adapters.path}`);
    expect(readFileSync(out).equals(before)).toBe(true);
  });

  it('refuses a different prompt length as another model', async () => {
    await expect(labelRecords(model, tok, recs, 64, out, { model: { ...stageA, maxLen: 64 }, quiet: true })).rejects.toThrow(/maxLen 112.*maxLen 64/s);
  });

  it('refuses a file that does not say which model wrote it', async () => {
    const old = join(dir, 'old.jsonl');
    writeFileSync(old, readFileSync(out, 'utf8').split('\n').slice(1).join('\n')); // the rows without the header
    await expect(labelRecords(model, tok, recs, MAX_LEN, old, { model: stageA, quiet: true })).rejects.toThrow(`${old}: 6 soft labels without a record of the model`);
  });

  it('a torn last line (a killed run) is dropped and labelled again; nothing else changes', async () => {
    const torn = join(dir, 'torn.jsonl');
    copyFileSync(out, torn);
    const text = readFileSync(out, 'utf8');
    writeFileSync(torn, text.slice(0, text.length - 20)); // cut inside the last row
    const r = await labelRecords(model, tok, recs, MAX_LEN, torn, { model: stageA, quiet: true });
    expect(r).toMatchObject({ labelled: 1, resumedFrom: 5 });
    const lines = readFileSync(torn, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(7); // header + six labels, each once
    expect(new Set(lines.slice(1).map((l) => JSON.parse(l).key)).size).toBe(6);
    expect(lines.slice(0, 6)).toEqual(text.split('\n').slice(0, 6)); // the intact lines are untouched
  });
});
