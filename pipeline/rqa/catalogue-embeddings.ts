// A market's catalogue embeddings from the EBR product tower, saved by `csrm rqa` beside rqa.jsonl
// (catalogue-<market>.emb): a JSON header line {ids, dim, sha256} and then count × dim float32.
// The ANN index (hnsw-index.ts) is built from them and saved next to them.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../engine/atomic-file.ts';
import { sha256Hex } from '../queue/shard-jobs.ts';

export interface CatalogueEmbeddings {
  ids: string[];
  dim: number;
  rows: Float32Array;
  /** SHA-256 of the rows' bytes: the index records which embeddings it was built from. */
  sha256: string;
}

const rowBytes = (rows: Float32Array) => new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength);

export function catalogueEmbeddings(ids: string[], dim: number, rows: Float32Array): CatalogueEmbeddings {
  if (rows.length !== ids.length * dim) throw new Error(`catalogue embeddings: ${rows.length} values for ${ids.length} ids × ${dim}`);
  return { ids, dim, rows, sha256: sha256Hex(rowBytes(rows)) };
}

export async function writeCatalogueEmbeddings(path: string, e: CatalogueEmbeddings): Promise<void> {
  const head = Buffer.from(JSON.stringify({ csrm_catalogue_embeddings: 1, dim: e.dim, count: e.ids.length, sha256: e.sha256, ids: e.ids }) + '\n');
  await writeFileAtomic(path, [head, rowBytes(e.rows)]);
}

export function readCatalogueEmbeddings(path: string): CatalogueEmbeddings {
  const b = readFileSync(path);
  const nl = b.indexOf(0x0a);
  const bad = (why: string): never => {
    throw new Error(`catalogue embeddings ${path}: ${why}`);
  };
  if (nl < 0) bad('no header line');
  const h = JSON.parse(b.subarray(0, nl).toString('utf8')) as { csrm_catalogue_embeddings?: number; dim: number; count: number; sha256: string; ids: string[] };
  if (h.csrm_catalogue_embeddings !== 1) bad('not a catalogue embeddings file');
  const body = b.subarray(nl + 1);
  if (body.byteLength !== h.count * h.dim * 4) bad(`${body.byteLength} bytes of rows, expected ${h.count} × ${h.dim} float32 (truncated?)`);
  const rows = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  const e = catalogueEmbeddings(h.ids, h.dim, rows);
  if (e.sha256 !== h.sha256) bad(`rows have sha256 ${e.sha256.slice(0, 12)}…, the header says ${h.sha256.slice(0, 12)}…`);
  return e;
}
