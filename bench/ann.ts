// ANN vs exact search for the EBR retriever (`rqa.index`): an hnswlib HNSW index against the exact
// GPU search (pipeline/rqa/knn.ts) on N synthetic 128-d unit vectors. The vectors are clustered
// like embeddings are (1000 Gaussian centres, each vector its centre plus noise of the same scale,
// normalised); the queries are fresh draws from the same mixture. Reports the index's build time and
// memory (RSS growth while building; the saved file's size), queries/s of both, and recall@10: the
// share of the exact top 10 the index returns.
//   npx tsx bench/ann.ts [--n 100000] [--queries 500] [--M 16] [--ef-construction 200] [--ef 64,128,256]
// The exact search runs queries in batches of 256 (its throughput grows with the batch); HNSW runs
// them one at a time on one thread, as a serving process would.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine, shutdownGpu, tensor } from '../engine/index.ts';
import { rng } from '../engine/random.ts';
import { buildHnsw, saveHnsw, searchHnsw, HNSW_DEFAULTS } from '../pipeline/rqa/hnsw-index.ts';
import { catalogueBlocks, knnSearch } from '../pipeline/rqa/knn.ts';

function arg(name: string, d: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? d : process.argv[i + 1]!;
}
const N = Number(arg('n', '100000'));
const Q = Number(arg('queries', '500'));
const M = Number(arg('M', String(HNSW_DEFAULTS.M)));
const EFC = Number(arg('ef-construction', String(HNSW_DEFAULTS.efConstruction)));
const EFS = arg('ef', '64,128,256').split(',').map(Number);
const D = 128;
const K = 10;

/** n unit vectors from a mixture of `centres` Gaussians (deterministic in seed). */
function mixture(n: number, centres: Float32Array, seed: number): Float32Array {
  const r = rng(seed);
  const C = centres.length / D;
  const out = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    const c = r.int(C);
    let s = 0;
    for (let d = 0; d < D; d++) {
      const v = centres[c * D + d]! + r.normal() / Math.sqrt(D);
      out[i * D + d] = v;
      s += v * v;
    }
    const inv = 1 / Math.sqrt(s);
    for (let d = 0; d < D; d++) out[i * D + d]! *= inv;
  }
  return out;
}

const r0 = rng(1);
const centres = new Float32Array(1000 * D);
for (let i = 0; i < centres.length; i++) centres[i] = r0.normal() / Math.sqrt(D);
const t0 = performance.now();
const base = mixture(N, centres, 2);
const queries = mixture(Q, centres, 3);
const genS = (performance.now() - t0) / 1000;

const info = await initEngine();
// exact: the catalogue on the GPU once, queries in batches of 256
const cat = catalogueBlocks(base, D); // 10^6 rows are 512 MB: row blocks, each within one storage binding
const exactBatch = 256;
const exact: number[][] = [];
const searchExact = async () => {
  exact.length = 0;
  for (let s = 0; s < Q; s += exactBatch) {
    const qn = Math.min(exactBatch, Q - s);
    const qt = tensor(queries.subarray(s * D, (s + qn) * D), [qn, D]);
    const hits = await knnSearch(qt, cat, K);
    qt.dispose();
    for (const h of hits) exact.push(h.map((x) => x.index));
  }
};
await searchExact(); // warm-up: pipelines compiled
let t = performance.now();
await searchExact();
const exactS = (performance.now() - t) / 1000;
for (const b of cat) b.dispose();

const rss0 = process.memoryUsage().rss;
t = performance.now();
const index = buildHnsw(base, D, { ...HNSW_DEFAULTS, M, efConstruction: EFC });
const buildS = (performance.now() - t) / 1000;
const rssGrowth = process.memoryUsage().rss - rss0;
const dir = mkdtempSync(join(tmpdir(), 'csrm-ann-'));
saveHnsw(join(dir, 'bench.hnsw'), index, 'bench');
const fileBytes = statSync(join(dir, 'bench.hnsw')).size;
rmSync(dir, { recursive: true, force: true });

const rows = EFS.map((ef) => {
  index.params.efSearch = ef;
  searchHnsw(index, queries.subarray(0, Math.min(Q, 50) * D), K); // warm-up
  const t1 = performance.now();
  const got = searchHnsw(index, queries, K);
  const s = (performance.now() - t1) / 1000;
  let hit = 0;
  got.forEach((h, qi) => {
    const want = new Set(exact[qi]!);
    hit += h.filter((x) => want.has(x.index)).length;
  });
  return { ef, queries_per_s: Math.round(Q / s), recall_at_10: +(hit / (Q * K)).toFixed(4) };
});

const exactQps = Q / exactS;
console.log(JSON.stringify({
  n: N, dim: D, queries: Q, data: 'mixture of 1000 Gaussians, unit vectors', generate_s: +genS.toFixed(1),
  exact: { adapter: info.info.adapter, batch: exactBatch, queries_per_s: +exactQps.toFixed(1) },
  hnsw: { M, ef_construction: EFC, build_s: +buildS.toFixed(1), rss_growth_mb: Math.round(rssGrowth / 2 ** 20), file_mb: Math.round(fileBytes / 2 ** 20), search: rows.map((r) => ({ ...r, speedup: +(r.queries_per_s / exactQps).toFixed(1) })) },
  loadavg: loadavg().map((x) => +x.toFixed(2)), cpus: cpus().length,
}, null, 1));
await shutdownGpu();
