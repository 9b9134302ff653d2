// Reading the RQA feature written by the retrieval stage: `<dir>/rqa.jsonl`, one
// {"key": sampleKey, "titles": [...]} per relevance sample.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export async function loadRqaIndex(dir: string): Promise<Map<string, string[]>> {
  const f = join(dir, 'rqa.jsonl');
  if (!existsSync(f)) throw new Error(`${f} not found (run \`csrm rqa\`)`);
  const out = new Map<string, string[]>();
  readFileSync(f, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (!line.trim()) return;
      const row = JSON.parse(line) as { key?: unknown; titles?: unknown };
      if (typeof row.key !== 'string' || !Array.isArray(row.titles) || !row.titles.every((t) => typeof t === 'string')) {
        throw new Error(`${f}:${i + 1}: expected {"key": string, "titles": string[]}`);
      }
      out.set(row.key, row.titles as string[]);
    });
  return out;
}
