// Approximate nearest neighbours for the EBR retriever (`rqa.index: "hnsw"`): an hnswlib HNSW graph
// over the catalogue embeddings by inner product (hnswlib's "ip" distance is 1 − u·v; the rows are
// unit vectors, so its order is cosine's). Built with a fixed seed from single-threaded inserts, so
// the same embeddings give the same graph; saved beside the embeddings with a sidecar naming the
// embeddings' SHA-256 and the parameters, and rebuilt when either differs.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import hnswlib from 'hnswlib-node';
import type { Hit } from './topk.ts';

const { HierarchicalNSW } = hnswlib;
type Index = InstanceType<typeof HierarchicalNSW>;

export interface HnswParams {
  /** Graph degree (links per node per layer). */
  M: number;
  /** Candidate list size while building. */
  efConstruction: number;
  /** Candidate list size while searching (raised to k when k is larger). */
  efSearch: number;
  seed: number;
}

export const HNSW_DEFAULTS: HnswParams = { M: 16, efConstruction: 200, efSearch: 128, seed: 100 };

export interface HnswIndex {
  index: Index;
  dim: number;
  count: number;
  params: HnswParams;
}

export function buildHnsw(rows: Float32Array, dim: number, p: HnswParams = HNSW_DEFAULTS): HnswIndex {
  const count = rows.length / dim;
  if (!Number.isInteger(count)) throw new Error(`hnsw: ${rows.length} values are not rows of ${dim}`);
  const index = new HierarchicalNSW('ip', dim);
  index.initIndex(Math.max(1, count), p.M, p.efConstruction, p.seed);
  for (let i = 0; i < count; i++) index.addPoint(Array.from(rows.subarray(i * dim, (i + 1) * dim)), i);
  index.setEf(p.efSearch);
  return { index, dim, count, params: p };
}

/** The k rows of largest inner product per query (queries: Q × dim), best first. */
export function searchHnsw(h: HnswIndex, queries: Float32Array, k: number): Hit[][] {
  const Q = queries.length / h.dim;
  const kk = Math.min(k, h.count);
  if (kk === 0) return Array.from({ length: Q }, () => []);
  h.index.setEf(Math.max(h.params.efSearch, kk));
  const out: Hit[][] = [];
  for (let q = 0; q < Q; q++) {
    const r = h.index.searchKnn(Array.from(queries.subarray(q * h.dim, (q + 1) * h.dim)), kk);
    // hnswlib returns nearest first; ties in distance keep its order
    out.push(r.neighbors.map((index, j) => ({ index, score: 1 - r.distances[j]! })));
  }
  return out;
}

interface Sidecar {
  embeddings: string;
  dim: number;
  count: number;
  params: HnswParams;
}

/** The index saved at `path` when it was built from these embeddings with these parameters, else null. */
export function loadHnsw(path: string, embeddingsSha: string, dim: number, count: number, p: HnswParams): HnswIndex | null {
  const side = `${path}.json`;
  if (!existsSync(path) || !existsSync(side)) return null;
  const s = JSON.parse(readFileSync(side, 'utf8')) as Sidecar;
  if (s.embeddings !== embeddingsSha || s.dim !== dim || s.count !== count || JSON.stringify(s.params) !== JSON.stringify(p)) return null;
  const index = new HierarchicalNSW('ip', dim);
  index.readIndexSync(path);
  index.setEf(p.efSearch);
  return { index, dim, count, params: p };
}

export function saveHnsw(path: string, h: HnswIndex, embeddingsSha: string): void {
  h.index.writeIndexSync(path);
  writeFileSync(`${path}.json`, JSON.stringify({ embeddings: embeddingsSha, dim: h.dim, count: h.count, params: h.params } satisfies Sidecar) + '\n');
}
