// Reading the RQA feature written by the retrieval stage: `<dir>/rqa.jsonl`, one
// {"key": sampleKey, "titles": [...]} per relevance sample, and checking where it came from: the
// stage's result.json records the market and base model it retrieved with, and rqa.jsonl's hash.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonIf } from '../io/files.ts';
import { fileSha256, type ProvenanceRecord } from './provenance.ts';

export async function loadRqaIndex(dir: string): Promise<Map<string, string[]>> {
  const f = join(dir, 'rqa.jsonl');
  if (!existsSync(f)) throw new Error(`${f} not found (run \`csrm rqa\`)`);
  const out = new Map<string, string[]>();
  readFileSync(f, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      let row: { key?: unknown; titles?: unknown };
      try {
        row = JSON.parse(line) as { key?: unknown; titles?: unknown };
      } catch {
        throw new Error(`${f}:${i + 1}: not JSON`);
      }
      if (typeof row.key !== 'string' || !Array.isArray(row.titles) || !row.titles.every((t) => typeof t === 'string')) {
        throw new Error(`${f}:${i + 1}: expected {"key": string, "titles": string[]}`);
      }
      out.set(row.key, row.titles as string[]);
    });
  return out;
}

/**
 * rqa.jsonl's hash, after checking that the RQA stage in `dir` finished on this market and base and
 * that rqa.jsonl is the file it wrote; throws naming the difference and how to rebuild it.
 */
export function checkRqaSource(dir: string, want: { market: string; base: string }, rebuild: string): string {
  const f = join(dir, 'rqa.jsonl');
  const r = readJsonIf<{ provenance?: ProvenanceRecord; output?: string }>(join(dir, 'result.json'));
  if (!r || !existsSync(f)) throw new Error(`${dir}: no finished RQA stage (rqa.jsonl and result.json); ${rebuild}`);
  const h = r.provenance?.hashes;
  if (!h || !r.output) throw new Error(`${dir}/result.json has no record of what its rqa.jsonl was made from (made before provenance was kept); refusing to use it. Rebuild it: ${rebuild}`);
  const diff: string[] = [];
  if (h.market !== want.market) diff.push(`market ${h.market?.slice(0, 12)}… there, ${want.market.slice(0, 12)}… here`);
  if (h.base !== want.base) diff.push(`base model ${h.base?.slice(0, 12)}… there, ${want.base.slice(0, 12)}… here`);
  if (diff.length) throw new Error(`${f} was retrieved for another run: ${diff.join('; ')}. Rebuild it: ${rebuild}`);
  const now = fileSha256(f, 'RQA titles');
  if (now !== r.output) throw new Error(`${f} changed after the RQA stage wrote it (sha256 ${now.slice(0, 12)}…, result.json records ${r.output.slice(0, 12)}…). Rebuild it: ${rebuild}`);
  return now;
}
