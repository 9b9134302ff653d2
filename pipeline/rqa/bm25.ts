// Okapi BM25 over product titles with an inverted index (section 3.3: the term-based retriever
// that makes pseudo query-product pairs in a market without behaviour):
//   score(q, d) = Σ_{t ∈ set(q)} idf(t) · tf(t,d)·(k1+1) / (tf(t,d) + k1·(1 − b + b·|d|/avgdl))
//   idf(t)      = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))
// Each distinct query term counts once (no query-term-frequency factor), as in Lucene's BM25 for
// one clause per term. Postings are typed arrays sorted by document; a query touches only the
// documents in its terms' postings, accumulates into a dense score array and selects with a heap.
import { analyzer as defaultAnalyzer, type Analyzer } from './analyze.ts';
import { TopK } from './topk.ts';

export interface Bm25Doc {
  id: string;
  text: string;
}

export interface Bm25Opts {
  k1?: number;
  b?: number;
  analyzer?: Analyzer;
}

export interface Bm25Index {
  readonly k1: number;
  readonly b: number;
  readonly analyzer: Analyzer;
  /** External id of each internal document number. */
  readonly ids: readonly string[];
  readonly docOf: ReadonlyMap<string, number>;
  readonly termOf: ReadonlyMap<string, number>;
  /** Postings of term t are postDoc/postTf[postStart[t] .. postStart[t+1]). */
  readonly postStart: Uint32Array;
  readonly postDoc: Uint32Array;
  readonly postTf: Uint16Array;
  readonly idf: Float64Array;
  /** k1·(1 − b + b·|d|/avgdl) per document: the length part of the denominator, computed once. */
  readonly lenNorm: Float64Array;
  readonly avgdl: number;
  /** Per-query scratch: dense scores and the list of documents touched. */
  readonly acc: Float64Array;
  readonly touched: Uint32Array;
}

export interface Bm25Hit {
  id: string;
  score: number;
}

export const BM25_DEFAULTS = { k1: 1.2, b: 0.75 } as const;

export function bm25Idf(n: number, df: number): number {
  return Math.log(1 + (n - df + 0.5) / (df + 0.5));
}

/** A growable Uint32Array (document term lists are not known in size before analysis). */
class U32List {
  a = new Uint32Array(1024);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Uint32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
}

export function buildBm25(docs: readonly Bm25Doc[], opts: Bm25Opts = {}): Bm25Index {
  const k1 = opts.k1 ?? BM25_DEFAULTS.k1;
  const b = opts.b ?? BM25_DEFAULTS.b;
  const analyze = opts.analyzer ?? defaultAnalyzer();
  const N = docs.length;
  const docOf = new Map<string, number>();
  const termOf = new Map<string, number>();
  // Pass 1: each document's distinct terms with their tf, flat, plus document frequencies.
  const fwdTerm = new U32List();
  const fwdTf = new U32List();
  const fwdStart = new Uint32Array(N + 1);
  const docLen = new Uint32Array(N);
  let df = new Uint32Array(1024);
  let totalLen = 0;
  const local = new Map<number, number>();
  for (let d = 0; d < N; d++) {
    const doc = docs[d]!;
    if (docOf.has(doc.id)) throw new Error(`buildBm25: duplicate document id '${doc.id}'`);
    docOf.set(doc.id, d);
    local.clear();
    const terms = analyze(doc.text);
    for (const t of terms) {
      let id = termOf.get(t);
      if (id === undefined) {
        id = termOf.size;
        termOf.set(t, id);
        if (id === df.length) {
          const g = new Uint32Array(df.length * 2);
          g.set(df);
          df = g;
        }
      }
      local.set(id, (local.get(id) ?? 0) + 1);
    }
    for (const [t, tf] of local) {
      fwdTerm.push(t);
      fwdTf.push(Math.min(tf, 0xffff));
      df[t]!++;
    }
    fwdStart[d + 1] = fwdTerm.n;
    docLen[d] = terms.length;
    totalLen += terms.length;
  }
  // Pass 2: invert. Visiting documents in order leaves every postings list sorted by document.
  const T = termOf.size;
  const postStart = new Uint32Array(T + 1);
  for (let t = 0; t < T; t++) postStart[t + 1] = postStart[t]! + df[t]!;
  const fill = postStart.slice(0, T);
  const P = postStart[T]!;
  const postDoc = new Uint32Array(P);
  const postTf = new Uint16Array(P);
  for (let d = 0; d < N; d++) {
    for (let j = fwdStart[d]!; j < fwdStart[d + 1]!; j++) {
      const t = fwdTerm.a[j]!;
      const at = fill[t]!++;
      postDoc[at] = d;
      postTf[at] = fwdTf.a[j]!;
    }
  }
  const idf = new Float64Array(T);
  for (let t = 0; t < T; t++) idf[t] = bm25Idf(N, df[t]!);
  const avgdl = N > 0 ? totalLen / N : 0;
  const lenNorm = new Float64Array(N);
  for (let d = 0; d < N; d++) lenNorm[d] = k1 * (1 - b + (avgdl > 0 ? (b * docLen[d]!) / avgdl : 0));
  return {
    k1, b, analyzer: analyze, ids: docs.map((d) => d.id), docOf, termOf,
    postStart, postDoc, postTf, idf, lenNorm, avgdl,
    acc: new Float64Array(N), touched: new Uint32Array(N),
  };
}

export interface SearchOpts {
  /** External ids that must not be returned (e.g. the product being judged). */
  exclude?: ReadonlySet<string>;
}

/** The distinct known term ids of a query. */
export function queryTerms(index: Bm25Index, query: string): number[] {
  const out = new Set<number>();
  for (const t of index.analyzer(query)) {
    const id = index.termOf.get(t);
    if (id !== undefined) out.add(id);
  }
  return [...out];
}

/** The k best documents for `query`, best first; fewer when fewer documents share a term with it. */
export function search(index: Bm25Index, query: string, k: number, opts: SearchOpts = {}): Bm25Hit[] {
  const { postStart, postDoc, postTf, idf, lenNorm, acc, touched } = index;
  const k1p1 = index.k1 + 1;
  let nTouched = 0;
  for (const t of queryTerms(index, query)) {
    const w = idf[t]!;
    for (let j = postStart[t]!, end = postStart[t + 1]!; j < end; j++) {
      const d = postDoc[j]!;
      const tf = postTf[j]!;
      if (acc[d] === 0) touched[nTouched++] = d; // every contribution is > 0, so 0 means untouched
      acc[d]! += (w * tf * k1p1) / (tf + lenNorm[d]!);
    }
  }
  const excluded = new Set<number>();
  for (const id of opts.exclude ?? []) {
    const d = index.docOf.get(id);
    if (d !== undefined) excluded.add(d);
  }
  const heap = new TopK(k);
  const anyExcluded = excluded.size > 0;
  let threshold = -Infinity;
  for (let i = 0; i < nTouched; i++) {
    const d = touched[i]!;
    const s = acc[d]!;
    acc[d] = 0; // leave the scratch clean for the next query
    if (s < threshold || (anyExcluded && excluded.has(d))) continue; // most documents stop here
    heap.push(d, s);
    threshold = heap.threshold;
  }
  return heap.sorted().map((h) => ({ id: index.ids[h.index]!, score: h.score }));
}

/** `search` for many queries; `exclude(qi)` gives the ids to leave out for query qi. */
export function searchBatch(
  index: Bm25Index, queries: readonly string[], k: number,
  opts: { exclude?: (qi: number) => ReadonlySet<string> } = {},
): Bm25Hit[][] {
  return queries.map((q, qi) => search(index, q, k, { exclude: opts.exclude?.(qi) }));
}
