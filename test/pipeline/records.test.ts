import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCsv, writeCsv } from '../../pipeline/data/csv.ts';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { BadRowError, readRecords, writeRecords } from '../../pipeline/data/records.ts';
import type { BehaviourRecord, RelevanceRecord, TranslationPair } from '../../pipeline/data/schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'csrm-records-'));
const quiet = () => {};

function rec(i: number, over: Partial<RelevanceRecord> = {}): RelevanceRecord {
  return {
    query_id: `q${i}`, product_id: `p${i}`, pair_id: i % 2 ? `pair${i}` : '', market: 'KR', language: 'ko',
    split: 'train', intent: 'brand_type', query: '나이키 운동화', query_brand: '나이키',
    product_title: '아디다스 슈퍼스타, "화이트"\n250mm', product_description: '가벼운 운동화, 쿠션감',
    product_brand: '아디다스', product_category: '신발 > 운동화', rqa: ['나이키 에어포스 1', '耐吉 球鞋'],
    label: 1, true_label: 2, ...over,
  };
}

const text = fc.string({ unit: 'grapheme', maxLength: 30 });
const relevanceArb = fc.record({
  query_id: text, product_id: text, pair_id: text, market: fc.constantFrom('KR', 'TW'), language: fc.constantFrom('ko', 'zh-Hant'),
  split: fc.constantFrom('train' as const, 'dev' as const, 'test' as const),
  intent: fc.constantFrom('type' as const, 'alias' as const), query: text, query_brand: text,
  product_title: text, product_description: text, product_brand: text, product_category: text,
  rqa: fc.array(text, { maxLength: 3 }), label: fc.constantFrom(0 as const, 1 as const, 2 as const),
  true_label: fc.constantFrom(-1 as const, 0 as const, 2 as const),
  // U+FFFD is how a decoder marks bytes that were not UTF-8: readers report it, so it is not generated.
}).filter((r) => !Object.values(r).flat().some((v) => typeof v === 'string' && v.includes('\uFFFD')));

describe('record files', () => {
  for (const ext of ['jsonl', 'csv', 'parquet']) {
    it(`round-trips relevance records through ${ext}`, async () => {
      await fc.assert(fc.asyncProperty(fc.array(relevanceArb, { maxLength: 8 }), async (records) => {
        const f = join(dir, `prop.${ext}`);
        writeRecords(f, 'relevance', records);
        const back = await readRecords(f, { mode: 'fail-fast', log: quiet });
        expect(back.bad).toEqual([]);
        expect(back.records).toEqual(records);
      }), { numRuns: 25 });
    });

    it(`round-trips translation and behaviour records through ${ext}`, async () => {
      const t: TranslationPair[] = [{ kind: 'brand', source_language: 'ko', target_language: 'zh-Hant', source: '농심', target: '農心' }];
      const b: BehaviourRecord[] = [{ market: 'KR', query_id: 'q1', query: '안성', product_id: 'p9', impressions: 12, clicks: 3, purchases: 1 }];
      writeRecords(join(dir, `t.${ext}`), 'translation', t);
      writeRecords(join(dir, `b.${ext}`), 'behaviour', b);
      expect((await readRecords(join(dir, `t.${ext}`), { mode: 'fail-fast', kind: 'translation', log: quiet })).records).toEqual(t);
      expect((await readRecords(join(dir, `b.${ext}`), { mode: 'fail-fast', kind: 'behaviour', log: quiet })).records).toEqual(b);
    });
  }

  it('parses quoted CSV with commas, quotes and line breaks', () => {
    const csv = writeCsv(['a', 'b'], [['x, "y"', 'line1\nline2'], ['plain', ' padded ']]);
    const recs = parseCsv(csv);
    expect(recs.map((r) => r.fields)).toEqual([['a', 'b'], ['x, "y"', 'line1\nline2'], ['plain', ' padded ']]);
    expect(recs.map((r) => r.line)).toEqual([1, 2, 4]);
  });
});

describe('bad rows', () => {
  const good = JSON.stringify(rec(1));
  const lines = [
    good,
    JSON.stringify({ ...rec(2), label: 3 }),                 // unknown label
    JSON.stringify({ ...rec(3), query: undefined }),         // missing field
    JSON.stringify({ ...rec(4), label: 'exact' }),           // wrong type
    JSON.stringify({ ...rec(5), product_title: 'x'.repeat(5000) }), // over-long
    '{not json',
    good,
  ];
  const f = join(dir, 'bad.jsonl');
  const enc = new TextEncoder();
  // A lone continuation byte in the query of one more line: bytes that are not UTF-8.
  const brokenLine = enc.encode(JSON.stringify({ ...rec(7), query: 'A#B' }));
  const hash = brokenLine.indexOf(0x23);
  brokenLine[hash] = 0x80;
  writeFileSync(f, Buffer.concat([enc.encode(lines.join('\n') + '\n'), brokenLine, enc.encode('\n')]));

  it('skip mode reports each bad row with file, line and reason, and prints the count', async () => {
    const logged: string[] = [];
    const res = await readRecords(f, { mode: 'skip', log: (l) => logged.push(l) });
    expect(res.records).toHaveLength(2);
    expect(res.bad.map((b) => [b.row, b.file])).toEqual([[2, f], [3, f], [4, f], [5, f], [6, f], [8, f]]);
    expect(res.bad[0].reason).toMatch(/unknown label 3/);
    expect(res.bad[1].reason).toMatch(/missing field 'query'/);
    expect(res.bad[2].reason).toMatch(/expected label/);
    expect(res.bad[3].reason).toMatch(/over-long/);
    expect(res.bad[4].reason).toMatch(/malformed JSON/);
    expect(res.bad[5].reason).toMatch(/invalid UTF-8/);
    expect(logged[0]).toContain('2 rows read, 6 bad rows skipped');
  });

  it('fail-fast mode stops at the first bad row', async () => {
    await expect(readRecords(f, { mode: 'fail-fast', log: quiet })).rejects.toThrow(BadRowError);
    await expect(readRecords(f, { mode: 'fail-fast', log: quiet })).rejects.toThrow(/bad\.jsonl:2: field 'label'/);
  });

  it('reports CSV rows by the line where they start', async () => {
    const c = join(dir, 'bad.csv');
    writeRecords(c, 'relevance', [rec(1), rec(2, { label: 0 })]);
    const text = (await import('node:fs')).readFileSync(c, 'utf8').replace(/,0,2\n$/, ',7,2\n');
    writeFileSync(c, text + 'only,three,fields\n');
    const res = await readRecords(c, { mode: 'skip', log: quiet });
    expect(res.records).toHaveLength(1);
    // Each record spans two lines (the title holds a line break): rows start at lines 2, 4 and 6.
    expect(res.bad.map((b) => b.row)).toEqual([4, 6]);
    expect(res.bad[0].reason).toMatch(/unknown label 7/);
    expect(res.bad[1].reason).toMatch(/missing field/);
  });

  it('reports invalid UTF-8 in CSV by the line where the record starts', async () => {
    const c = join(dir, 'utf8.csv');
    writeRecords(c, 'translation', [
      { kind: 'brand', source_language: 'ko', target_language: 'zh-Hant', source: '농심', target: '農心' },
      { kind: 'brand', source_language: 'ko', target_language: 'zh-Hant', source: 'X', target: '不倒翁' },
    ]);
    const bytes = (await import('node:fs')).readFileSync(c);
    bytes[bytes.indexOf(0x58)] = 0xff; // the source 'X' becomes a byte that is never UTF-8
    writeFileSync(c, bytes);
    const res = await readRecords(c, { mode: 'skip', kind: 'translation', log: quiet });
    expect(res.records).toHaveLength(1);
    expect(res.bad).toEqual([{ file: c, row: 3, reason: "field 'source': invalid UTF-8" }]);
  });

  it('reports bad rows of a Parquet file written by another tool', async () => {
    const p = join(dir, 'foreign.parquet');
    writeFileSync(p, new Uint8Array(parquetWriteBuffer({ columnData: [
      { name: 'kind', data: ['brand', 'slogan'], type: 'STRING' },
      { name: 'source_language', data: ['ko', 'ko'], type: 'STRING' },
      { name: 'target_language', data: ['zh-Hant', 'zh-Hant'], type: 'STRING' },
      { name: 'source', data: ['농심', '맛있다'], type: 'STRING' },
      { name: 'target', data: ['農心', '好吃'], type: 'STRING' },
    ] })));
    const res = await readRecords(p, { mode: 'skip', kind: 'translation', log: quiet });
    expect(res.records).toHaveLength(1);
    expect(res.bad).toEqual([{ file: p, row: 2, reason: "field 'kind': unknown value 'slogan'" }]);
  });
});
