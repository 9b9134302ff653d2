// Fault injection, readers (issue 15, cases 1, 5, 6, 8): a broken quote, an empty split, a
// flipped or truncated file, a folder or a non-JSON file where a file is expected. Each is refused
// with an error naming the file (and the line where one applies); none is read as other data.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../engine/index.ts';
import { generateMarket } from '../../pipeline/data/market/generate.ts';
import { loadLexicon } from '../../pipeline/data/market/lexicon.ts';
import { readMarket } from '../../pipeline/data/market/read.ts';
import { writeMarket } from '../../pipeline/data/market/write.ts';
import { readRecords, writeRecords } from '../../pipeline/data/records.ts';
import type { RelevanceRecord } from '../../pipeline/data/schema.ts';
import { evaluate } from '../../pipeline/eval/metrics.ts';
import { readJson } from '../../pipeline/io/files.ts';
import { loadMarketData } from '../../pipeline/stages/market-data.ts';

const dir = mkdtempSync(join(tmpdir(), 'csrm-faults-'));
const quiet = { log: () => {} };
const market = generateMarket({ preset: 'tiny', seed: 4 });
// Row 8's title holds a comma, so it is written quoted: a stray quote earlier pairs with its quotes.
const tenRows = market.relevance.filter((r) => r.market === 'TW' && r.split === 'test').slice(0, 10)
  .map((r, i) => (i === 7 ? { ...r, product_title: `${r.product_title}, 6入` } : r));

/** A CSV of the ten rows with `edit` applied to the text of data row `row` (1-based; line row + 1). */
function csvWith(name: string, row: number, edit: (line: string) => string): string {
  const f = join(dir, name);
  writeRecords(f, 'relevance', tenRows);
  const lines = readFileSync(f, 'utf8').split('\n');
  lines[row] = edit(lines[row]!);
  writeFileSync(f, lines.join('\n'));
  return f;
}

/** Puts a quote before the query field, which (in these rows) no quoted field precedes. */
const quoteBeforeQuery = (line: string) => {
  const f = line.split(',');
  f[7] = `"${f[7]}`;
  return f.join(',');
};

describe('CSV: an unbalanced quote stops the file at the line where the field starts (case 1)', () => {
  it('a quote that swallows the following rows is refused in both modes, naming file and line', async () => {
    const f = csvWith('swallow.csv', 5, quoteBeforeQuery);
    for (const mode of ['skip', 'fail-fast'] as const) {
      const read = readRecords(f, { mode, ...quiet });
      await expect(read).rejects.toThrow(`${f}:6: `);
      await expect(read).rejects.toThrow(/unbalanced/);
    }
  });

  it('a quote that runs to the end of the file is an unterminated quote at its line', async () => {
    const f = csvWith('eof.csv', 9, (l) => l.replace(/,([^,]*)$/, ',"$1'));
    await expect(readRecords(f, { mode: 'skip', ...quiet })).rejects.toThrow(`${f}:10: unterminated quote`);
  });

  it('the same rows without the stray quote read back whole (quoted commas, quotes, line breaks)', async () => {
    const rows: RelevanceRecord[] = tenRows.map((r, i) => ({ ...r, product_title: i % 2 ? `a, "b"\nc ${i}` : r.product_title }));
    const f = join(dir, 'ok.csv');
    writeRecords(f, 'relevance', rows);
    expect((await readRecords(f, { mode: 'fail-fast', ...quiet })).records).toEqual(rows);
  });
});

describe('empty splits are errors, not an F1 of 0 (case 5)', () => {
  it('a market whose target test split is empty does not load', async () => {
    const m = generateMarket({ preset: 'tiny', seed: 4 });
    m.relevance = m.relevance.filter((r) => !(r.market === 'TW' && r.split === 'test'));
    const d = join(dir, 'empty-split');
    writeMarket(m, d, 'jsonl');
    await expect(loadMarketData(d)).rejects.toThrow(`${join(d, 'relevance', 'TW-test.jsonl')}: the TW test split has no records`);
  });

  it('evaluate() refuses no samples', () => {
    expect(() => evaluate([], [])).toThrow(/no samples/);
  });
});

describe('Parquet and every market file: content hashes in summary.json (case 6)', () => {
  const parquetMarket = join(dir, 'pq');
  writeMarket(market, parquetMarket, 'parquet');
  const summary = readJson<{ files: Record<string, { sha256: string; bytes: number }> }>(join(parquetMarket, 'summary.json'));

  it('summary.json lists every data file with its hash', () => {
    expect(Object.keys(summary.files)).toContain('relevance/KR-test.parquet');
    expect(Object.keys(summary.files)).toContain('truth/products.jsonl');
    expect(summary.files['relevance/KR-test.parquet']!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  for (const format of ['parquet', 'csv', 'jsonl'] as const) {
    it(`a flipped byte inside a value is refused (${format}), by readRecords and by loadMarketData`, async () => {
      const d = join(dir, `flip-${format}`);
      writeMarket(market, d, format);
      const f = join(d, 'relevance', `KR-test.${format}`);
      const bytes = readFileSync(f);
      const at = bytes.indexOf('KR-Q0') + 4; // a digit of a query id: still a valid file, another value
      bytes[at] = bytes[at] === 0x31 ? 0x32 : 0x31;
      writeFileSync(f, bytes);
      await expect(readRecords(f, { mode: 'skip', ...quiet })).rejects.toThrow(`${f}: content differs`);
      await expect(loadMarketData(d)).rejects.toThrow(`${f}: content differs`);
      await expect(readMarket(d, { mode: 'skip', ...quiet })).rejects.toThrow(/content differs/);
    });
  }

  it('a file the summary lists that is gone fails the load instead of reading as empty', async () => {
    const d = join(dir, 'gone');
    writeMarket(market, d, 'jsonl');
    rmSync(join(d, 'behaviour', 'TW.jsonl'));
    await expect(loadMarketData(d)).rejects.toThrow(/behaviour\/TW\.jsonl/);
  });

  it('a truncated or empty Parquet file names the file', async () => {
    const good = readFileSync(join(parquetMarket, 'relevance', 'KR-test.parquet'));
    const loose = join(dir, 'loose');
    mkdirSync(loose, { recursive: true });
    for (const [name, bytes] of [['empty.parquet', Buffer.alloc(0)], ['cut.parquet', good.subarray(0, good.byteLength - 9)], ['head.parquet', good.subarray(0, 100)]] as const) {
      const f = join(loose, name);
      writeFileSync(f, bytes);
      await expect(readRecords(f, { mode: 'skip', ...quiet })).rejects.toThrow(`${f}: not a complete Parquet file`);
    }
  });
});

describe('every reader error names the file (case 8)', () => {
  it('a folder given for a record file, a checkpoint or a JSON file', async () => {
    const folder = join(dir, 'folder.jsonl');
    mkdirSync(folder, { recursive: true });
    await expect(readRecords(folder, { mode: 'skip', ...quiet })).rejects.toThrow(`${folder}: is a directory`);
    await expect(loadCheckpoint(folder)).rejects.toThrow(`${folder}: is a directory`);
    expect(() => readJson(folder)).toThrow(`${folder}: is a directory`);
  });

  it('a lexicon that is not JSON', () => {
    const f = join(dir, 'lexicon.json');
    writeFileSync(f, 'hello, not json\n');
    expect(() => loadLexicon(f)).toThrow(`invalid lexicon ${f}: not JSON`);
    expect(() => loadLexicon(dir)).toThrow(`lexicon ${dir}: is a directory`);
  });
});
