// BM25 over a synthetic catalogue of 10^5 titles made of random Chinese/Korean words (section 3.3
// asks for 10^5–10^6 titles on one machine). 'bm25_query' times a batch of top-10 queries
// (queries/s = Q / median time; Q is in the shape string); 'bm25_index' times building the index.
// relErr compares the index's top-k scores with a brute-force scan on a sample of queries.
import { rng, type Rng } from '../engine/random.ts';
import { buildBm25, searchBatch, type Bm25Doc } from '../pipeline/rqa/bm25.ts';
import { bm25Scan } from '../pipeline/rqa/bm25-scan.ts';
import type { BenchCase, BenchOpts, BenchSuite } from './types.ts';

// Titles use a few thousand distinct ideographs and Hangul syllables; a tiny alphabet would make
// every character's postings list cover much of the catalogue, which real titles do not.
const HAN = [...Array(3000).keys()].map((i) => String.fromCodePoint(0x4e00 + i * 6));
const HANGUL = [...Array(2000).keys()].map((i) => String.fromCodePoint(0xac00 + i * 5));

/** A vocabulary of 1-3 character words; word frequencies are Zipf-like, as in real titles. */
function vocabulary(r: Rng, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const chars = r.uniform() < 0.6 ? HAN : HANGUL; // a word stays in one script
    const len = 1 + r.int(3);
    let w = '';
    for (let j = 0; j < len; j++) w += chars[r.int(chars.length)]!;
    out.push(w);
  }
  return out;
}

function zipfPick(r: Rng, vocab: string[]): string {
  // Inverse-CDF of a ~1/rank law, cheap enough for 10^6 draws.
  return vocab[Math.min(vocab.length - 1, Math.floor(Math.exp(r.uniform() * Math.log(vocab.length + 1))) - 1)]!;
}

export function syntheticTitles(n: number, seed = 7): Bm25Doc[] {
  const r = rng(seed);
  const vocab = vocabulary(r, 20000);
  const docs: Bm25Doc[] = [];
  for (let i = 0; i < n; i++) {
    const words = 4 + r.int(8);
    const parts: string[] = [];
    for (let j = 0; j < words; j++) parts.push(zipfPick(r, vocab));
    // Titles glue words without spaces half the time, and carry a size like real listings.
    docs.push({ id: `p${i}`, text: `${parts.join(r.uniform() < 0.5 ? '' : ' ')} ${1 + r.int(500)}ml` });
  }
  return docs;
}

/** Queries of 1-3 words taken from random titles, so every query has matches. */
export function syntheticQueries(docs: Bm25Doc[], q: number, seed = 11): string[] {
  const r = rng(seed);
  return [...Array(q)].map(() => {
    const t = docs[r.int(docs.length)]!.text;
    const chars = [...t.replace(/\s+/g, '')];
    const start = r.int(Math.max(1, chars.length - 6));
    return chars.slice(start, start + 2 + r.int(5)).join('');
  });
}

const K = 10;

function cases(opts: BenchOpts): BenchCase[] {
  const N = opts.smoke ? 2000 : 100_000;
  const Q = opts.smoke ? 50 : 2000;
  if (opts.size !== undefined && opts.size !== N) return [];
  let docs: Bm25Doc[] | null = null;
  const corpus = () => (docs ??= syntheticTitles(N));
  const sample = opts.smoke ? 10 : 20;
  return [
    {
      kernel: 'bm25_query', shape: `${N}titles_${Q}queries_k${K}`, system: 'ours', ceiling: 'compute', tolerance: 1e-12,
      async setup() {
        const ds = corpus();
        const index = buildBm25(ds);
        const queries = syntheticQueries(ds, Q);
        let out = searchBatch(index, queries, K);
        return {
          async run() { out = searchBatch(index, queries, K); },
          async relErr() {
            const ref = bm25Scan(ds);
            let num = 0;
            let den = 0;
            for (let i = 0; i < sample; i++) {
              const want = ref.search(queries[i]!, K);
              const got = out[i]!;
              for (let j = 0; j < Math.max(want.length, got.length); j++) {
                const w = want[j]?.score ?? 0;
                // a different document at a rank counts as the whole score being wrong
                const g = got[j]?.id === want[j]?.id ? (got[j]?.score ?? 0) : 0;
                num += (g - w) ** 2;
                den += w ** 2;
              }
            }
            return den === 0 ? 0 : Math.sqrt(num / den);
          },
          dispose() {},
        };
      },
    },
    {
      kernel: 'bm25_index', shape: `${N}titles`, system: 'ours', ceiling: 'compute', tolerance: 1e-12,
      async setup() {
        const ds = corpus();
        let index = buildBm25(ds);
        return {
          async run() { index = buildBm25(ds); },
          async relErr() {
            // The rebuilt index must answer like the scan; one query stands for it.
            const q = syntheticQueries(ds, 1, 3)[0]!;
            const got = searchBatch(index, [q], K)[0]!;
            const want = bm25Scan(ds).search(q, K);
            return got.every((h, j) => h.id === want[j]?.id && h.score === want[j]?.score) && got.length === want.length ? 0 : 1;
          },
          dispose() {},
        };
      },
    },
  ];
}

export const suite: BenchSuite = { name: 'bm25', cases };
