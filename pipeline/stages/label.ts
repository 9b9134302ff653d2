// `csrm label` (section 3.4): the previous round's model infers soft triples ⟨p_irr, p_sub, p_exact⟩
// for every training sample of the next round. Written in chunks to a JSONL file, so a killed run
// resumes with the samples already labelled — only into a file the same model wrote.
import { appendFileSync, existsSync, mkdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { checkpointDigest } from '../../engine/checkpoint.ts';
import { readFileNamedSync } from '../../engine/read-file.ts';
import type { RelevanceRecord } from '../data/schema.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { progress } from '../train/progress.ts';
import { scoreSeqs } from '../train/score.ts';
import type { Llama } from '../../models/llama.ts';
import { encodeRelevance, type Soft } from './encode.ts';
import { sampleKey } from './market-data.ts';

export interface SoftLabelRow {
  key: string;
  p: Soft;
}

/**
 * Which model wrote a soft-label file: the checkpoints' content hashes (paths for the reader's
 * benefit only) and the prompt length. Kept as the file's first line, so resuming appends only
 * the same model's labels and a file never mixes two teachers.
 */
export interface LabelModel {
  base: { path: string; sha256: string };
  adapters: { path: string; sha256: string };
  maxLen: number;
}

interface LabelHeader {
  csrm_soft_labels: 1;
  model: LabelModel;
}

export async function labelModel(base: string, adapters: string, maxLen: number): Promise<LabelModel> {
  return { base: { path: base, sha256: await checkpointDigest(base) }, adapters: { path: adapters, sha256: await checkpointDigest(adapters) }, maxLen };
}

const sameModel = (a: LabelModel, b: LabelModel) => a.base.sha256 === b.base.sha256 && a.adapters.sha256 === b.adapters.sha256 && a.maxLen === b.maxLen;
const describeModel = (m: LabelModel) => `base ${m.base.path} (sha256 ${m.base.sha256.slice(0, 12)}…) + ${m.adapters.path} (sha256 ${m.adapters.sha256.slice(0, 12)}…), maxLen ${m.maxLen}`;

/** A soft-label file: the model that wrote it (null for a file from before models were recorded) and its labels. */
export async function readSoftLabelFile(path: string): Promise<{ model: LabelModel | null; labels: Map<string, Soft> }> {
  if (!existsSync(path)) throw new Error(`soft labels ${path} not found (run \`csrm label\`)`);
  const labels = new Map<string, Soft>();
  let model: LabelModel | null = null;
  readFileNamedSync(path, 'soft labels')
    .toString('utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let row: SoftLabelRow & Partial<LabelHeader>;
      try {
        row = JSON.parse(line) as SoftLabelRow & Partial<LabelHeader>;
      } catch {
        throw new Error(`${path}:${i + 1}: not JSON`);
      }
      if (i === 0 && row?.csrm_soft_labels === 1) {
        model = row.model!;
        return;
      }
      const p = row?.p;
      const ok = Array.isArray(p) && p.length === 3 && p.every((v) => Number.isFinite(v) && v >= 0) && Math.abs(p[0] + p[1] + p[2] - 1) < 1e-3;
      if (!ok || typeof row.key !== 'string') throw new Error(`${path}:${i + 1}: a soft label is a key and three probabilities summing to 1`);
      labels.set(row.key, p);
    });
  return { model, labels };
}

export async function readSoftLabels(path: string): Promise<Map<string, Soft>> {
  return (await readSoftLabelFile(path)).labels;
}

/** Throws unless the soft-label file at `path` was written by `model`; names both models. */
export async function checkLabelledBy(path: string, model: LabelModel): Promise<Map<string, Soft>> {
  const f = await readSoftLabelFile(path);
  if (f.model === null && f.labels.size > 0)
    throw new Error(`${path}: ${f.labels.size} soft labels without a record of the model that wrote them; refusing to add ${describeModel(model)}'s labels to them (delete the file to relabel)`);
  if (f.model !== null && !sameModel(f.model, model))
    throw new Error(`${path} holds soft labels of ${describeModel(f.model)}; this run labels with ${describeModel(model)}. `
      + 'Refusing to mix two models\' labels in one file: write to another file, or delete this one to relabel');
  return f.labels;
}

/**
 * A killed run can leave a torn last line (the append was cut short). Resuming drops it, saying
 * so, and labels that sample again; a torn line anywhere else is corruption and stays an error.
 */
function dropTornTail(path: string, log: (s: string) => void): void {
  const bytes = readFileNamedSync(path, 'soft labels');
  if (bytes.byteLength === 0 || bytes[bytes.byteLength - 1] === 0x0a) return;
  const keep = bytes.lastIndexOf(0x0a) + 1;
  log(`label: ${path}: dropping a torn last line (${bytes.byteLength - keep} bytes, from a killed run); its sample is labelled again`);
  truncateSync(path, keep);
}

export interface LabelResult {
  labelled: number;
  resumedFrom: number;
  samplesPerSec: number;
}

export async function labelRecords(m: Llama, tok: Tokenizer, recs: RelevanceRecord[], maxLen: number, out: string, opts: { model: LabelModel; chunk?: number; quiet?: boolean }): Promise<LabelResult> {
  mkdirSync(dirname(out), { recursive: true });
  if (existsSync(out)) dropTornTail(out, (s) => console.error(s)); // said even when quiet: data is dropped
  const fresh = !existsSync(out) || statSync(out).size === 0;
  const have = fresh ? new Map<string, Soft>() : await checkLabelledBy(out, opts.model);
  if (fresh) writeFileSync(out, JSON.stringify({ csrm_soft_labels: 1, model: opts.model } satisfies LabelHeader) + '\n');
  const todo = recs.filter((r) => !have.has(sampleKey(r)));
  const chunk = opts.chunk ?? 256;
  const bar = progress('label', todo.length, { unit: 'samples', quiet: opts.quiet });
  const t0 = performance.now();
  for (let s = 0; s < todo.length; s += chunk) {
    const part = todo.slice(s, s + chunk);
    const probs = await scoreSeqs(m, part.map((r) => encodeRelevance(tok, r, maxLen)), tok.labelTokenIds, tok.pad, maxLen);
    appendFileSync(out, part.map((r, i) => JSON.stringify({ key: sampleKey(r), p: probs[i] }) + '\n').join(''));
    bar.tick(Math.min(s + chunk, todo.length), { items: part.length });
  }
  bar.done();
  return { labelled: todo.length, resumedFrom: have.size, samplesPerSec: todo.length / Math.max(1e-9, (performance.now() - t0) / 1000) };
}
