// Reading and writing records in JSONL, CSV and Parquet, chosen by file extension. Every row that
// fails validation is reported with file, row and reason; the caller picks fail-fast or skip, and
// the count of read and bad rows is always printed, so nothing is dropped silently.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { readFileNamedSync } from '../../engine/read-file.ts';
import { writeCsv } from './csv.ts';
import { csvObjectsIn } from './csv-file.ts';
import { verifyMarketFile } from './market/manifest.ts';
import { SCHEMAS, type RecordKind, type RecordOf } from './schema.ts';
import { toColumns, validateRow } from './validate.ts';

export type Format = 'jsonl' | 'csv' | 'parquet';
export type ReadMode = 'fail-fast' | 'skip';

export interface BadRow {
  file: string;
  /** 1-based: the line for JSONL and CSV (where the record starts), the row index + 1 for Parquet. */
  row: number;
  reason: string;
}

export interface ReadResult<T> {
  records: T[];
  bad: BadRow[];
}

export interface ReadOptions<K extends RecordKind> {
  mode: ReadMode;
  kind?: K;
  /** Where the summary line goes; stderr by default. */
  log?: (line: string) => void;
}

export class BadRowError extends Error {
  constructor(readonly bad: BadRow) {
    super(`${bad.file}:${bad.row}: ${bad.reason}`);
  }
}

export function formatOf(file: string): Format {
  if (file.endsWith('.jsonl')) return 'jsonl';
  if (file.endsWith('.csv')) return 'csv';
  if (file.endsWith('.parquet')) return 'parquet';
  throw new Error(`unknown record format for ${file} (expected .jsonl, .csv or .parquet)`);
}

// Decoding without `fatal` keeps the rest of the file readable; the validator flags U+FFFD rows.
const utf8 = new TextDecoder('utf-8', { fatal: false });

interface RawRow { row: number; value: Record<string, unknown> | null; reason?: string; fromText: boolean }

function jsonlRows(bytes: Uint8Array): RawRow[] {
  const text = utf8.decode(bytes);
  const out: RawRow[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const v = JSON.parse(line);
      if (v === null || typeof v !== 'object' || Array.isArray(v))
        out.push({ row: i + 1, value: null, reason: 'line is not a JSON object', fromText: false });
      else out.push({ row: i + 1, value: v, fromText: false });
    } catch {
      out.push({ row: i + 1, value: null, reason: 'malformed JSON', fromText: false });
    }
  });
  return out;
}

function csvRows(bytes: Uint8Array, file: string): RawRow[] {
  const { header, rows } = csvObjectsIn(file, utf8.decode(bytes));
  // A row with extra fields would lose data if read by the header; report it instead. A record
  // spanning lines may hold rows swallowed by a stray quote: say which lines it covers.
  const span = (o: { line: number; endLine: number }) => (o.endLine > o.line ? ` (the record spans lines ${o.line}–${o.endLine}: an unbalanced '"'?)` : '');
  return rows.map((o) => o.width > header.length || (o.width < header.length && o.endLine > o.line)
    ? { row: o.line, value: null, reason: `${o.width} fields but the header has ${header.length}${span(o)}`, fromText: true }
    : { row: o.line, value: o.row, fromText: true });
}

const PAR1 = 0x31524150; // "PAR1" little-endian: the first and last four bytes of every Parquet file

async function parquetRows(bytes: Uint8Array, file: string): Promise<RawRow[]> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 12 || dv.getUint32(0, true) !== PAR1 || dv.getUint32(bytes.byteLength - 4, true) !== PAR1)
    throw new Error(`${file}: not a complete Parquet file (${bytes.byteLength} bytes, without the PAR1 mark at both ends): empty or truncated?`);
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let rows: Record<string, unknown>[];
  try {
    rows = (await parquetReadObjects({ file: buf })) as Record<string, unknown>[];
  } catch (e) {
    throw new Error(`${file}: unreadable Parquet (${(e as Error).message})`);
  }
  return rows.map((value, i) => ({ row: i + 1, value, fromText: false }));
}

/**
 * Reads raw rows of any supported format, keyed by column name, without validation. A file that a
 * market's summary.json lists is first checked against the content hash recorded there.
 */
export async function readRawRows(file: string): Promise<RawRow[]> {
  const format = formatOf(file);
  const bytes = readFileNamedSync(file);
  verifyMarketFile(file, bytes);
  switch (format) {
    case 'jsonl': return jsonlRows(bytes);
    case 'csv': return csvRows(bytes, file);
    case 'parquet': return parquetRows(bytes, file);
  }
}

/** Applies `convert` to every raw row, sorting rows into records and reported bad rows. */
export function collect<T>(
  file: string, rows: RawRow[], mode: ReadMode,
  convert: (raw: Record<string, unknown>, fromText: boolean) => { ok: true; record: T } | { ok: false; reason: string },
  log: (line: string) => void = (l) => console.error(l),
): ReadResult<T> {
  const records: T[] = [];
  const bad: BadRow[] = [];
  for (const r of rows) {
    const res = r.value === null ? { ok: false as const, reason: r.reason ?? 'unreadable row' } : convert(r.value, r.fromText);
    if (res.ok) { records.push(res.record); continue; }
    const b = { file, row: r.row, reason: res.reason };
    if (mode === 'fail-fast') {
      log(`${file}: stopped at bad row ${b.row} (${b.reason}) after ${records.length} good rows`);
      throw new BadRowError(b);
    }
    bad.push(b);
  }
  log(`${file}: ${records.length} rows read, ${bad.length} bad rows skipped`);
  for (const b of bad.slice(0, 20)) log(`  ${b.file}:${b.row}: ${b.reason}`);
  if (bad.length > 20) log(`  … and ${bad.length - 20} more`);
  return { records, bad };
}

/** Reads and validates records of `kind` (default 'relevance') from a .jsonl, .csv or .parquet file. */
export async function readRecords<K extends RecordKind = 'relevance'>(
  file: string, opts: ReadOptions<K>,
): Promise<ReadResult<RecordOf[K]>> {
  const kind = (opts.kind ?? 'relevance') as K;
  const rows = await readRawRows(file);
  return collect(file, rows, opts.mode, (raw, fromText) => validateRow(kind, raw, fromText), opts.log);
}

/** Serialises records of `kind` in the format the extension names. Bytes depend only on the records. */
export function encodeRecords<K extends RecordKind>(kind: K, records: readonly RecordOf[K][], format: Format): Uint8Array {
  const specs = SCHEMAS[kind];
  const names = specs.map((s) => s.name);
  if (format === 'jsonl') {
    const text = records.map((r) => JSON.stringify(r, names)).join('\n') + (records.length ? '\n' : '');
    return new TextEncoder().encode(text);
  }
  const cols = records.map((r) => toColumns(kind, r));
  if (format === 'csv') return new TextEncoder().encode(writeCsv(names, cols.map((c) => names.map((n) => c[n]))));
  // Lists go in a JSON column: hyparquet hands them back as arrays, so no second parsing rule is needed.
  const columnData = specs.map((s) => ({
    name: s.name,
    data: s.type === 'string_list'
      ? records.map((r) => (r as unknown as Record<string, unknown>)[s.name] ?? [])
      : cols.map((c) => c[s.name]),
    type: (s.type === 'int' || s.type === 'label' || s.type === 'label_or_unknown' ? 'INT32'
      : s.type === 'string_list' ? 'JSON' : 'STRING') as 'INT32' | 'STRING' | 'JSON',
    nullable: false,
  }));
  return new Uint8Array(parquetWriteBuffer({ columnData, createdBy: 'csrm-webgpu data layer' }));
}

export function writeRecords<K extends RecordKind>(file: string, kind: K, records: readonly RecordOf[K][]): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, encodeRecords(kind, records, formatOf(file)));
}
