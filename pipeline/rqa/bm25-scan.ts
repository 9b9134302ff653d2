// A brute-force BM25 that scores every document from its own term list, with statistics computed
// independently of the inverted index: the reference the index is tested and benchmarked against.
import { analyzer as defaultAnalyzer } from './analyze.ts';
import { BM25_DEFAULTS, bm25Idf, type Bm25Doc, type Bm25Hit, type Bm25Opts } from './bm25.ts';
import { TopK } from './topk.ts';

export interface Bm25Scan {
  search(query: string, k: number, exclude?: ReadonlySet<string>): Bm25Hit[];
}

export function bm25Scan(docs: readonly Bm25Doc[], opts: Bm25Opts = {}): Bm25Scan {
  const k1 = opts.k1 ?? BM25_DEFAULTS.k1;
  const b = opts.b ?? BM25_DEFAULTS.b;
  const analyze = opts.analyzer ?? defaultAnalyzer();
  const tfs = docs.map((d) => {
    const m = new Map<string, number>();
    const terms = analyze(d.text);
    for (const t of terms) m.set(t, (m.get(t) ?? 0) + 1);
    return { m, len: terms.length };
  });
  const df = new Map<string, number>();
  for (const { m } of tfs) for (const t of m.keys()) df.set(t, (df.get(t) ?? 0) + 1);
  const N = docs.length;
  const avgdl = tfs.reduce((s, x) => s + x.len, 0) / Math.max(1, N);
  return {
    search(query, k, exclude) {
      const qs = [...new Set(analyze(query))].filter((t) => df.has(t));
      const heap = new TopK(k);
      docs.forEach((doc, d) => {
        if (exclude?.has(doc.id)) return;
        let s = 0;
        for (const t of qs) {
          const tf = tfs[d]!.m.get(t) ?? 0;
          if (tf === 0) continue;
          s += (bm25Idf(N, df.get(t)!) * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * tfs[d]!.len) / avgdl));
        }
        if (s > 0) heap.push(d, s);
      });
      return heap.sorted().map((h) => ({ id: docs[h.index]!.id, score: h.score }));
    },
  };
}
