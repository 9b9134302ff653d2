// EBR search throughput (section 3.3): Q = 1024 query embeddings against N = 10^5 catalogue
// embeddings of D = 128. 'knn_score' times the chunked scoring matmul alone (GFLOP/s of 2·Q·N·D);
// 'knn_search' times scoring plus top-k, with the WGSL top-k kernel ('ours:gpu-topk') or host
// heap selection after reading back each chunk ('ours:host-topk'); queries/s = Q / median time.
// relErr: the returned top-k scores against a float64 brute force on a sample of queries.
import { randn, read, scope, sync, type Tensor } from '../engine/index.ts';
import { chunkScores, defaultChunk, knnSearch, type TopkMode } from '../pipeline/rqa/knn.ts';
import { TopK, type Hit } from '../pipeline/rqa/topk.ts';
import type { BenchCase, BenchInstance, BenchOpts, BenchSuite } from './types.ts';

const K = 10;

async function data(Q: number, N: number, D: number) {
  const q = randn([Q, D], { seed: 21 });
  const c = randn([N, D], { seed: 22 });
  return { q, c, qh: await read(q), ch: await read(c) };
}

/** ‖got − ref‖/‖ref‖ of the top-k score lists of the first `sample` queries, ref in float64. */
function scoreErr(got: Hit[][], qh: ArrayLike<number>, ch: ArrayLike<number>, N: number, D: number, sample: number): number {
  let num = 0;
  let den = 0;
  for (let qi = 0; qi < sample; qi++) {
    const h = new TopK(K);
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += qh[qi * D + d]! * ch[j * D + d]!;
      h.push(j, s);
    }
    h.sorted().forEach((w, j) => {
      num += ((got[qi]![j]?.score ?? 0) - w.score) ** 2;
      den += w.score ** 2;
    });
  }
  return Math.sqrt(num / den);
}

function cases(opts: BenchOpts): BenchCase[] {
  const Q = opts.smoke ? 16 : 1024;
  const N = opts.smoke ? 2000 : 100_000;
  const D = opts.smoke ? 32 : 128;
  if (opts.size !== undefined && opts.size !== N) return [];
  const shape = `${Q}x${N}x${D}_k${K}`;
  const flops = 2 * Q * N * D;
  const sample = opts.smoke ? 4 : 16;
  const search = (mode: TopkMode): BenchCase => ({
    kernel: 'knn_search', shape, system: `ours:${mode}-topk`, flops, ceiling: 'compute', tolerance: 1e-5,
    async setup(): Promise<BenchInstance> {
      const { q, c, qh, ch } = await data(Q, N, D);
      let out = await knnSearch(q, c, K, { topk: mode });
      return {
        async run() { out = await knnSearch(q, c, K, { topk: mode }); },
        async relErr() { return scoreErr(out, qh, ch, N, D, sample); },
        dispose() { q.dispose(); c.dispose(); },
      };
    },
  });
  return [
    {
      kernel: 'knn_score', shape: `${Q}x${N}x${D}`, system: 'ours', flops, ceiling: 'compute', tolerance: 1e-5,
      async setup(): Promise<BenchInstance> {
        const { q, c, qh, ch } = await data(Q, N, D);
        const chunk = defaultChunk(Q, N);
        const scoreAll = (keepFirst: boolean): Tensor | null => {
          let first: Tensor | null = null;
          for (let start = 0; start < N; start += chunk) {
            const count = Math.min(chunk, N - start);
            const s = scope(() => chunkScores(q, c, start, count));
            if (keepFirst && start === 0) first = s;
            else s.dispose();
          }
          return first;
        };
        return {
          async run() { scoreAll(false); await sync(); },
          async relErr() {
            // First chunk's scores for the sampled queries against float64 dot products.
            const first = scoreAll(true)!;
            const s = await read(first);
            const cols = first.shape[1]!;
            first.dispose();
            let num = 0;
            let den = 0;
            for (let qi = 0; qi < sample; qi++)
              for (let j = 0; j < cols; j++) {
                let r = 0;
                for (let d = 0; d < D; d++) r += qh[qi * D + d]! * ch[j * D + d]!;
                num += (s[qi * cols + j]! - r) ** 2;
                den += r * r;
              }
            return Math.sqrt(num / den);
          },
          dispose() { q.dispose(); c.dispose(); },
        };
      },
    },
    search('gpu'),
    search('host'),
  ];
}

export const suite: BenchSuite = { name: 'knn', cases };
