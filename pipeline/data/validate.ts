// Row validation shared by every reader: a row either becomes a typed record or yields a reason.
// Text formats (CSV) carry every value as a string, so `fromText` lets numbers and lists be parsed
// from their text form; JSONL and Parquet keep their native types and a wrong type is an error.
import { SCHEMAS, type FieldSpec, type RecordKind, type RecordOf } from './schema.ts';

export type RowResult<K extends RecordKind> = { ok: true; record: RecordOf[K] } | { ok: false; reason: string };

// Decoders replace broken byte sequences by U+FFFD; finding one means the bytes were not UTF-8.
const REPLACEMENT = '\uFFFD';

function checkString(spec: FieldSpec, v: string): string | null {
  if (v.includes(REPLACEMENT)) return `field '${spec.name}': invalid UTF-8`;
  if (spec.maxLength !== undefined && v.length > spec.maxLength)
    return `field '${spec.name}': over-long (${v.length} > ${spec.maxLength} chars)`;
  return null;
}

function parseIntValue(v: unknown, fromText: boolean): number | null {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return Number.isInteger(v) ? v : null;
  if (fromText && typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  return null;
}

function convert(spec: FieldSpec, v: unknown, fromText: boolean): { value: unknown } | { reason: string } {
  const name = spec.name;
  switch (spec.type) {
    case 'string': {
      if (typeof v !== 'string') return { reason: `field '${name}': expected string, got ${typeName(v)}` };
      const bad = checkString(spec, v);
      return bad ? { reason: bad } : { value: v };
    }
    case 'enum': {
      if (typeof v !== 'string') return { reason: `field '${name}': expected string, got ${typeName(v)}` };
      if (!spec.values!.includes(v)) return { reason: `field '${name}': unknown value '${v}'` };
      return { value: v };
    }
    case 'int': {
      const n = parseIntValue(v, fromText);
      if (n === null) return { reason: `field '${name}': expected integer, got ${typeName(v)}` };
      if (n < 0) return { reason: `field '${name}': negative count ${n}` };
      return { value: n };
    }
    case 'label':
    case 'label_or_unknown': {
      const n = parseIntValue(v, fromText);
      if (n === null) return { reason: `field '${name}': expected label 0|1|2, got ${typeName(v)} ${short(v)}` };
      if (n === 0 || n === 1 || n === 2) return { value: n };
      if (spec.type === 'label_or_unknown' && n === -1) return { value: n };
      return { reason: `field '${name}': unknown label ${n}` };
    }
    case 'string_list': {
      let list = v;
      if (fromText && typeof v === 'string') {
        if (v === '') list = [];
        else {
          try { list = JSON.parse(v); } catch { return { reason: `field '${name}': not a JSON list` }; }
        }
      }
      if (!Array.isArray(list) || !list.every((s) => typeof s === 'string'))
        return { reason: `field '${name}': expected list of strings, got ${typeName(v)}` };
      for (const s of list as string[]) {
        const bad = checkString(spec, s);
        if (bad) return { reason: bad };
      }
      return { value: list };
    }
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  return typeof v;
}

function short(v: unknown): string {
  const s = JSON.stringify(typeof v === 'bigint' ? String(v) : v) ?? String(v);
  return s.length > 40 ? s.slice(0, 40) + '…' : s;
}

/** Turns one raw row (column name → value) into a record of `kind`, or says why it cannot. */
export function validateRow<K extends RecordKind>(
  kind: K, raw: Record<string, unknown>, fromText: boolean,
): RowResult<K> {
  const out: Record<string, unknown> = {};
  for (const spec of SCHEMAS[kind]) {
    const present = Object.prototype.hasOwnProperty.call(raw, spec.name) && raw[spec.name] !== undefined
      && raw[spec.name] !== null;
    if (!present) {
      if (spec.optionalDefault === undefined) return { ok: false, reason: `missing field '${spec.name}'` };
      out[spec.name] = structuredClone(spec.optionalDefault);
      continue;
    }
    const r = convert(spec, raw[spec.name], fromText);
    if ('reason' in r) return { ok: false, reason: r.reason };
    out[spec.name] = r.value;
  }
  return { ok: true, record: out as unknown as RecordOf[K] };
}

/** The record as plain column values for a text or columnar writer: lists become JSON text. */
export function toColumns(kind: RecordKind, record: object): Record<string, string | number> {
  const src = record as Record<string, unknown>;
  const out: Record<string, string | number> = {};
  for (const spec of SCHEMAS[kind]) {
    const v = src[spec.name] ?? spec.optionalDefault;
    out[spec.name] = spec.type === 'string_list' ? JSON.stringify(v ?? []) : (v as string | number);
  }
  return out;
}
