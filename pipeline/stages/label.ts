// `csrm label` (section 3.4): the previous round's model infers soft triples ⟨p_irr, p_sub, p_exact⟩
// for every training sample of the next round. Written in chunks to a JSONL file, so a killed run
// resumes with the samples already labelled.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
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

export async function readSoftLabels(path: string): Promise<Map<string, Soft>> {
  if (!existsSync(path)) throw new Error(`soft labels ${path} not found (run \`csrm label\`)`);
  const out = new Map<string, Soft>();
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let row: SoftLabelRow;
      try {
        row = JSON.parse(line) as SoftLabelRow;
      } catch {
        throw new Error(`${path}:${i + 1}: not JSON`);
      }
      const p = row.p;
      const ok = Array.isArray(p) && p.length === 3 && p.every((v) => Number.isFinite(v) && v >= 0) && Math.abs(p[0] + p[1] + p[2] - 1) < 1e-3;
      if (!ok || typeof row.key !== 'string') throw new Error(`${path}:${i + 1}: a soft label is a key and three probabilities summing to 1`);
      out.set(row.key, p);
    });
  return out;
}

export interface LabelResult {
  labelled: number;
  resumedFrom: number;
  samplesPerSec: number;
}

export async function labelRecords(m: Llama, tok: Tokenizer, recs: RelevanceRecord[], maxLen: number, out: string, opts: { chunk?: number; quiet?: boolean } = {}): Promise<LabelResult> {
  mkdirSync(dirname(out), { recursive: true });
  const have = existsSync(out) ? await readSoftLabels(out) : new Map<string, Soft>();
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
