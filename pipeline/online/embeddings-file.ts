// Precomputed product embeddings (section 3.5: "all product embeddings are pre-calculated and
// refreshed regularly"), one file holding both towers' item embeddings so EM and defect can never
// come from different refreshes. Two encodings: JSON lines (readable) and a binary float32 file
// with an id index (compact, fast to load). Reads validate everything before a table is returned.
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { OnlineModels } from './types.ts';

export interface EmbeddingRows {
  ids: string[];
  em: Float32Array[];
  defect: Float32Array[];
  /** The content hashes of the two towers that computed them (binary files keep them in the header). */
  madeBy?: { em: string; defect: string };
}

export interface EmbeddingTable {
  /** First 16 hex digits of the file's SHA-256: the same content always has the same version. */
  version: string;
  dim: number;
  ids: string[];
  index: Map<string, number>;
  /** count × dim, row-major, L2-normalised rows. */
  em: Float32Array;
  defect: Float32Array;
  madeBy?: { em: string; defect: string };
}

export type EmbeddingFormat = 'jsonl' | 'binary';
const MAGIC = 'CSRMEMB1';
/** How far a stored row's norm may stray from 1 (float32 rounding, not a different model). */
const NORM_TOL = 1e-3;

/** `.jsonl` → JSON lines; anything else → binary. */
export function embeddingFormatOf(file: string): EmbeddingFormat {
  return file.endsWith('.jsonl') ? 'jsonl' : 'binary';
}

function flatten(rows: Float32Array[], dim: number, what: string): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => {
    if (r.length !== dim) throw new Error(`${what} row ${i} has dimension ${r.length}, expected ${dim}`);
    out.set(r, i * dim);
  });
  return out;
}

/** Checks ids, dimensions, finiteness and unit norms, and builds the id index. */
export function buildTable(ids: string[], dim: number, em: Float32Array, defect: Float32Array, version: string): EmbeddingTable {
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`embeddings: bad dimension ${dim}`);
  const index = new Map<string, number>();
  ids.forEach((id, i) => {
    if (typeof id !== 'string' || id === '') throw new Error(`embeddings: row ${i} has no product id`);
    if (index.has(id)) throw new Error(`embeddings: duplicate product id '${id}' (rows ${index.get(id)} and ${i})`);
    index.set(id, i);
  });
  for (const [name, t] of [['em', em], ['defect', defect]] as const) {
    if (t.length !== ids.length * dim) throw new Error(`embeddings: ${name} has ${t.length} values, expected ${ids.length}×${dim}`);
    for (let i = 0; i < ids.length; i++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += t[i * dim + j]! ** 2;
      if (!(Math.abs(Math.sqrt(s) - 1) <= NORM_TOL))
        throw new Error(`embeddings: ${name} row of '${ids[i]}' has norm ${Math.sqrt(s)}, expected 1 (L2-normalised)`);
    }
  }
  return { version, dim, ids, index, em, defect };
}

export function encodeEmbeddings(rows: EmbeddingRows, format: EmbeddingFormat): Uint8Array {
  const dim = rows.em[0]?.length ?? rows.defect[0]?.length ?? 0;
  if (rows.em.length !== rows.ids.length || rows.defect.length !== rows.ids.length)
    throw new Error(`embeddings: ${rows.ids.length} ids, ${rows.em.length} em rows, ${rows.defect.length} defect rows`);
  if (format === 'jsonl') {
    const lines = rows.ids.map((id, i) => JSON.stringify({ product_id: id, em: Array.from(rows.em[i]!), defect: Array.from(rows.defect[i]!) }));
    return Buffer.from(lines.map((l) => l + '\n').join(''), 'utf8');
  }
  const header = Buffer.from(JSON.stringify({ dim, count: rows.ids.length, models: ['em', 'defect'], ids: rows.ids, ...(rows.madeBy ? { made_by: rows.madeBy } : {}) }), 'utf8');
  const pad = (4 - ((MAGIC.length + 4 + header.length) % 4)) % 4; // float32 data starts 4-aligned
  const head = Buffer.alloc(MAGIC.length + 4 + header.length + pad);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(header.length, MAGIC.length);
  header.copy(head, MAGIC.length + 4);
  const em = flatten(rows.em, dim, 'em');
  const defect = flatten(rows.defect, dim, 'defect');
  return Buffer.concat([head, toLE(em), toLE(defect)]);
}

function toLE(a: Float32Array): Buffer {
  const b = Buffer.alloc(a.length * 4);
  for (let i = 0; i < a.length; i++) b.writeFloatLE(a[i]!, i * 4);
  return b;
}

function fromLE(bytes: Uint8Array, offset: number, n: number): Float32Array {
  if (endianness() === 'LE') {
    const copy = new Uint8Array(n * 4); // a Buffer's slice shares its pool, so copy to own the memory
    copy.set(bytes.subarray(offset, offset + n * 4));
    return new Float32Array(copy.buffer);
  }
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = b.readFloatLE(offset + i * 4);
  return out;
}

export function decodeEmbeddings(bytes: Uint8Array, version: string): EmbeddingTable {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length >= MAGIC.length && buf.toString('latin1', 0, MAGIC.length) === MAGIC) {
    if (buf.length < MAGIC.length + 4) throw new Error('embeddings: truncated header');
    const hlen = buf.readUInt32LE(MAGIC.length);
    const start = MAGIC.length + 4;
    if (start + hlen > buf.length) throw new Error('embeddings: truncated header');
    const h = JSON.parse(buf.toString('utf8', start, start + hlen)) as { dim: number; count: number; models: string[]; ids: string[]; made_by?: { em: string; defect: string } };
    if (!Array.isArray(h.ids) || h.ids.length !== h.count) throw new Error('embeddings: id index does not match count');
    if (JSON.stringify(h.models) !== '["em","defect"]') throw new Error(`embeddings: models ${JSON.stringify(h.models)}, expected ["em","defect"]`);
    const data = start + hlen + ((4 - ((start + hlen) % 4)) % 4);
    const n = h.count * h.dim;
    if (buf.length !== data + 8 * n) throw new Error(`embeddings: ${buf.length - data} data bytes, expected ${8 * n}`);
    const table = buildTable(h.ids, h.dim, fromLE(buf, data, n), fromLE(buf, data + 4 * n, n), version);
    if (h.made_by) table.madeBy = h.made_by;
    return table;
  }
  const ids: string[] = [];
  const em: Float32Array[] = [];
  const defect: Float32Array[] = [];
  buf.toString('utf8').split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let row: { product_id?: unknown; em?: unknown; defect?: unknown };
    try {
      row = JSON.parse(line);
    } catch (e) {
      throw new Error(`embeddings: line ${i + 1}: ${(e as Error).message}`);
    }
    const vec = (v: unknown, name: string) => {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
        throw new Error(`embeddings: line ${i + 1}: '${name}' is not an array of finite numbers`);
      return Float32Array.from(v as number[]);
    };
    if (typeof row?.product_id !== 'string') throw new Error(`embeddings: line ${i + 1}: no string product_id`);
    ids.push(row.product_id);
    em.push(vec(row.em, 'em'));
    defect.push(vec(row.defect, 'defect'));
  });
  const dim = em[0]?.length ?? 1;
  return buildTable(ids, dim, flatten(em, dim, 'em'), flatten(defect, dim, 'defect'), version);
}

export function contentVersion(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

/** Reads and validates a whole file; throws on any problem (the caller keeps its old table). */
export async function readEmbeddings(file: string): Promise<EmbeddingTable> {
  const bytes = await readFile(file);
  return decodeEmbeddings(bytes, contentVersion(bytes));
}

/** Writes via a temporary file and rename, so a reader never sees half a file. */
export function writeEmbeddings(file: string, rows: EmbeddingRows, format = embeddingFormatOf(file)): string {
  const bytes = encodeEmbeddings(rows, format);
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file);
  return contentVersion(bytes);
}

/** Item-tower embeddings of a catalogue under both models, in batches. */
export async function embedCatalogue(
  models: OnlineModels, items: { id: string; text: string }[], batch = 512,
): Promise<EmbeddingRows> {
  if (models.em.dim !== models.defect.dim) throw new Error(`EM tower dim ${models.em.dim} ≠ defect tower dim ${models.defect.dim}`);
  const rows: EmbeddingRows = { ids: items.map((i) => i.id), em: [], defect: [] };
  if (models.em.id && models.defect.id) rows.madeBy = { em: models.em.id, defect: models.defect.id };
  for (let i = 0; i < items.length; i += batch) {
    const chunk = items.slice(i, i + batch);
    rows.em.push(...(await models.em.encodeItems(chunk)));
    rows.defect.push(...(await models.defect.encodeItems(chunk)));
  }
  return rows;
}
