// Exact nearest-neighbour search by inner product on the GPU, for EBR over the catalogue
// (section 3.3): scores = queries · catalogueᵀ via the engine's matmul, one catalogue chunk at a
// time so no score buffer larger than Q×chunk exists, then top-k per query.
//   'gpu'  : the engine's topkMerge folds each chunk's scores into a running top-k on the device
//            (one workgroup per query); one readback at the end. Used when k + exclusions ≤ TOPK_MAX_K.
//   'host' : each chunk's scores are read back and heap-selected on the CPU (any k).
// Exclusions (the product being judged must never be returned) are applied on the host after
// selecting k + max|exclude(qi)| candidates, so the device never needs the sets.
// A catalogue larger than one storage binding (10^6 rows of 128 floats are 512 MB; bindings stop at
// maxStorageBufferBindingSize, 128 MiB on lavapipe) is passed as row blocks (`catalogueBlocks`): no
// kernel can read a buffer that large, so the blocks are separate tensors and chunks never cross one.
// The approximate index (HNSW, pipeline/rqa/hnsw-index.ts) is the other retriever for such catalogues.
import { flush, keep, matmul, noGrad, read, release, scope, scopeAsync, slice, tensor, topkMerge, TOPK_MAX_K, TOPK_NONE, type Tensor, type TopkLists } from '../../engine/index.ts';
import { TopK, type Hit } from './topk.ts';
import { gpuSync } from '../../engine/device.ts';

export type TopkMode = 'gpu' | 'host';

export interface KnnOpts {
  /** Catalogue indices that must not be returned for query qi. */
  exclude?: (qi: number) => ReadonlySet<number>;
  /** Catalogue rows scored per matmul (default: what keeps Q×chunk at 2^24 scores). */
  chunk?: number;
  /** Where top-k is selected (default 'gpu' when k + exclusions fit the kernel). */
  topk?: TopkMode;
}

/** A catalogue: one [N, d] tensor, or [n_i, d] row blocks in catalogue order (each fitting one storage binding). */
export type Catalogue = Tensor | readonly Tensor[];

function maxBinding(): number {
  return gpuSync().info.limits.maxStorageBufferBindingSize ?? 1 << 27;
}

/** Row-block sizes for n rows of d floats: each block at most maxBindingBytes. */
export function blockRows(n: number, d: number, maxBindingBytes: number): number[] {
  const per = Math.max(1, Math.floor(maxBindingBytes / (4 * d)));
  const out: number[] = [];
  for (let s = 0; s < n; s += per) out.push(Math.min(per, n - s));
  return out;
}

/** Uploads an [n, d] host catalogue as row blocks that each fit one storage binding (the caller disposes them). */
export function catalogueBlocks(rows: Float32Array, d: number, maxBindingBytes = maxBinding()): Tensor[] {
  if (rows.length % d !== 0) throw new Error(`catalogueBlocks: ${rows.length} floats are not rows of ${d}`);
  let s = 0;
  return blockRows(rows.length / d, d, maxBindingBytes).map((n) => {
    const t = tensor(rows.subarray(s * d, (s + n) * d), [n, d]);
    s += n;
    return t;
  });
}

/** Catalogue rows per chunk: Q×chunk ≤ 2^24 scores, and a chunk of d-wide rows fits one storage binding. */
export function defaultChunk(q: number, n: number, d = 0, maxBindingBytes = Infinity): number {
  const rows = d > 0 ? Math.floor(maxBindingBytes / (4 * d)) : Infinity;
  return Math.max(1, Math.min(n, Math.floor((1 << 24) / Math.max(1, q)), rows));
}

function check(queries: Tensor, blocks: readonly Tensor[], k: number): void {
  const fail = (why: string) => {
    throw new Error(`knnSearch: ${why} (queries ${queries}, catalogue ${blocks.length === 1 ? blocks[0] : `${blocks.length} blocks`}, k ${k})`);
  };
  if (blocks.length === 0) fail('the catalogue has no blocks');
  if (queries.backend !== 'gpu' || blocks.some((b) => b.backend !== 'gpu')) fail('tensors must be on the GPU');
  if (queries.rank !== 2 || blocks.some((b) => b.rank !== 2)) fail('queries and catalogue must be 2-D');
  if (blocks.some((b) => b.shape[1] !== queries.shape[1])) fail('embedding sizes differ');
  if (!Number.isInteger(k) || k < 0) fail('k must be a non-negative integer');
  const limit = maxBinding();
  blocks.forEach((b, i) => {
    const bytes = 4 * b.shape[0]! * b.shape[1]!;
    if (bytes > limit) fail(`catalogue block ${i} is ${bytes} bytes, more than one storage binding (maxStorageBufferBindingSize ${limit}); pass it as row blocks (catalogueBlocks)`);
  });
}

/** The k catalogue rows with the largest inner product per query, best first. */
export async function knnSearch(queries: Tensor, catalogue: Catalogue, k: number, opts: KnnOpts = {}): Promise<Hit[][]> {
  const blocks: readonly Tensor[] = Array.isArray(catalogue) ? catalogue : [catalogue as Tensor];
  check(queries, blocks, k);
  const Q = queries.shape[0]!;
  const N = blocks.reduce((n, b) => n + b.shape[0]!, 0);
  const excl = [...Array(Q).keys()].map((qi) => opts.exclude?.(qi) ?? new Set<number>());
  const extra = excl.reduce((m, s) => Math.max(m, s.size), 0);
  const want = Math.min(N, k + extra);
  if (Q === 0) return [];
  if (want === 0) return excl.map(() => []);
  const mode = opts.topk ?? (want <= TOPK_MAX_K ? 'gpu' : 'host');
  const chunk = opts.chunk ?? defaultChunk(Q, N, queries.shape[1]!, maxBinding());
  const lists = mode === 'gpu'
    ? await gpuTopk(queries, blocks, want, chunks(blocks, chunk))
    : await hostTopk(queries, blocks, want, chunks(blocks, chunk));
  return lists.map((l, qi) => l.filter((h) => !excl[qi]!.has(h.index)).slice(0, k));
}

/** Scores [Q, count] of catalogue rows [start, start+count): the scoring matmul of one chunk. */
export function chunkScores(queries: Tensor, catalogue: Tensor, start: number, count: number): Tensor {
  return noGrad(() => matmul(queries, start === 0 && count === catalogue.shape[0] ? catalogue : slice(catalogue, 0, start, start + count), { transB: true }));
}

/** One scoring step: rows [start, start+count) of block `block`, whose first row is catalogue row `offset`. */
interface Chunk {
  block: number;
  offset: number;
  start: number;
  count: number;
}

/** The chunks in catalogue order: at most `chunk` rows each, never crossing a block. */
function chunks(blocks: readonly Tensor[], chunk: number): Chunk[] {
  const out: Chunk[] = [];
  let offset = 0;
  blocks.forEach((b, block) => {
    const n = b.shape[0]!;
    for (let start = 0; start < n; start += chunk) out.push({ block, offset, start, count: Math.min(chunk, n - start) });
    offset += n;
  });
  return out;
}

async function hostTopk(queries: Tensor, blocks: readonly Tensor[], want: number, plan: Chunk[]): Promise<Hit[][]> {
  const Q = queries.shape[0]!;
  const heaps = [...Array(Q)].map(() => new TopK(want));
  for (const { block, offset, start: s0, count } of plan) {
    const start = offset + s0;
    const s = await scopeAsync(async () => read(chunkScores(queries, blocks[block]!, s0, count)));
    for (let qi = 0; qi < Q; qi++) {
      const h = heaps[qi]!;
      const row = qi * count;
      for (let j = 0; j < count; j++) {
        const v = s[row + j]!;
        if (v >= h.threshold) h.push(start + j, v); // ties with the threshold are decided by index
      }
    }
  }
  return heaps.map((h) => h.sorted());
}

async function gpuTopk(queries: Tensor, blocks: readonly Tensor[], want: number, plan: Chunk[]): Promise<Hit[][]> {
  const Q = queries.shape[0]!;
  let run: TopkLists | null = null;
  try {
    for (const { block, offset, start, count } of plan) {
      const prev: TopkLists | null = run;
      const next: TopkLists = scope(() => topkMerge(chunkScores(queries, blocks[block]!, start, count), want, offset + start, prev));
      run = { values: keep(next.values), indices: keep(next.indices) };
      if (prev) release(prev.values, prev.indices);
      flush(); // the chunk's scores may return to the pool once this is submitted
    }
    const lists: TopkLists = run!;
    const [vals, idx] = await scopeAsync(async () => [await read(lists.values), await read(lists.indices)] as const);
    return [...Array(Q).keys()].map((qi) => {
      const l: Hit[] = [];
      for (let j = 0; j < want; j++) {
        const i = idx[qi * want + j]!;
        if (i !== TOPK_NONE) l.push({ index: i, score: vals[qi * want + j]! });
      }
      return l;
    });
  } finally {
    if (run) release(run.values, run.indices);
  }
}
