// Exact nearest-neighbour search by inner product on the GPU, for EBR over the catalogue
// (section 3.3): scores = queries · catalogueᵀ via the engine's matmul, one catalogue chunk at a
// time so no score buffer larger than Q×chunk exists, then top-k per query.
//   'gpu'  : the engine's topkMerge folds each chunk's scores into a running top-k on the device
//            (one workgroup per query); one readback at the end. Used when k + exclusions ≤ TOPK_MAX_K.
//   'host' : each chunk's scores are read back and heap-selected on the CPU (any k).
// Exclusions (the product being judged must never be returned) are applied on the host after
// selecting k + max|exclude(qi)| candidates, so the device never needs the sets.
// An approximate index (HNSW) is not built here: for catalogues too large for exact search it
// would replace `knnSearch` behind the same signature, taking the same embeddings read back once.
import { flush, keep, matmul, noGrad, read, release, scope, scopeAsync, slice, topkMerge, TOPK_MAX_K, TOPK_NONE, type Tensor, type TopkLists } from '../../engine/index.ts';
import { TopK, type Hit } from './topk.ts';

export type TopkMode = 'gpu' | 'host';

export interface KnnOpts {
  /** Catalogue indices that must not be returned for query qi. */
  exclude?: (qi: number) => ReadonlySet<number>;
  /** Catalogue rows scored per matmul (default: what keeps Q×chunk at 2^24 scores). */
  chunk?: number;
  /** Where top-k is selected (default 'gpu' when k + exclusions fit the kernel). */
  topk?: TopkMode;
}

export function defaultChunk(q: number, n: number): number {
  return Math.max(1, Math.min(n, Math.floor((1 << 24) / Math.max(1, q))));
}

function check(queries: Tensor, catalogue: Tensor, k: number): void {
  const fail = (why: string) => {
    throw new Error(`knnSearch: ${why} (queries ${queries}, catalogue ${catalogue}, k ${k})`);
  };
  if (queries.backend !== 'gpu' || catalogue.backend !== 'gpu') fail('tensors must be on the GPU');
  if (queries.rank !== 2 || catalogue.rank !== 2) fail('queries and catalogue must be 2-D');
  if (queries.shape[1] !== catalogue.shape[1]) fail('embedding sizes differ');
  if (!Number.isInteger(k) || k < 0) fail('k must be a non-negative integer');
}

/** The k catalogue rows with the largest inner product per query, best first. */
export async function knnSearch(queries: Tensor, catalogue: Tensor, k: number, opts: KnnOpts = {}): Promise<Hit[][]> {
  check(queries, catalogue, k);
  const Q = queries.shape[0]!;
  const N = catalogue.shape[0]!;
  const excl = [...Array(Q).keys()].map((qi) => opts.exclude?.(qi) ?? new Set<number>());
  const extra = excl.reduce((m, s) => Math.max(m, s.size), 0);
  const want = Math.min(N, k + extra);
  if (Q === 0) return [];
  if (want === 0) return excl.map(() => []);
  const mode = opts.topk ?? (want <= TOPK_MAX_K ? 'gpu' : 'host');
  const chunk = opts.chunk ?? defaultChunk(Q, N);
  const lists = mode === 'gpu'
    ? await gpuTopk(queries, catalogue, want, chunk)
    : await hostTopk(queries, catalogue, want, chunk);
  return lists.map((l, qi) => l.filter((h) => !excl[qi]!.has(h.index)).slice(0, k));
}

/** Scores [Q, count] of catalogue rows [start, start+count): the scoring matmul of one chunk. */
export function chunkScores(queries: Tensor, catalogue: Tensor, start: number, count: number): Tensor {
  return noGrad(() => matmul(queries, start === 0 && count === catalogue.shape[0] ? catalogue : slice(catalogue, 0, start, start + count), { transB: true }));
}

async function hostTopk(queries: Tensor, catalogue: Tensor, want: number, chunk: number): Promise<Hit[][]> {
  const Q = queries.shape[0]!;
  const N = catalogue.shape[0]!;
  const heaps = [...Array(Q)].map(() => new TopK(want));
  for (let start = 0; start < N; start += chunk) {
    const count = Math.min(chunk, N - start);
    const s = await scopeAsync(async () => read(chunkScores(queries, catalogue, start, count)));
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

async function gpuTopk(queries: Tensor, catalogue: Tensor, want: number, chunk: number): Promise<Hit[][]> {
  const Q = queries.shape[0]!;
  const N = catalogue.shape[0]!;
  let run: TopkLists | null = null;
  try {
    for (let start = 0; start < N; start += chunk) {
      const count = Math.min(chunk, N - start);
      const prev: TopkLists | null = run;
      const next: TopkLists = scope(() => topkMerge(chunkScores(queries, catalogue, start, count), want, start, prev));
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
