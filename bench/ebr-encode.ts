// EBR encode throughput (section 3.3): the distilled bi-encoder's product tower over a catalogue of
// 10^5 titles (≈20 tokens each, vocabulary 3000, embedding 64 → 64), in batches of 512, read back to
// the host as the catalogue matrix the kNN search consumes. Reported as GB/s of token-embedding
// rows gathered (the dominant memory traffic) with products/s in the shape string's note.
// relErr: a sample of products against a float64 recomputation (mean of rows → projection → L2).
import { read } from '../engine/index.ts';
import { rng } from '../engine/random.ts';
import { disposeBiEncoder, encodeAllHost, initBiEncoder, type BiEncoder } from '../models/bi-encoder.ts';
import type { BenchCase, BenchInstance, BenchOpts, BenchSuite } from './types.ts';

const V = 3000;
const E = 64;
const D = 64;

function titles(n: number, seed: number): number[][] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Array.from({ length: 12 + r.int(16) }, () => r.int(V)));
}

async function refErr(m: BiEncoder, texts: number[][], got: Float32Array, sample: number): Promise<number> {
  const emb = await read(m.embed);
  const proj = await read(m.pProj);
  let num = 0;
  let den = 0;
  for (let i = 0; i < sample; i++) {
    const t = texts[i]!;
    const mean = new Float64Array(E);
    for (const id of t) for (let e = 0; e < E; e++) mean[e]! += emb[id * E + e]! / t.length;
    const y = new Float64Array(D);
    for (let d = 0; d < D; d++) for (let e = 0; e < E; e++) y[d]! += proj[d * E + e]! * mean[e]!;
    const norm = Math.sqrt(y.reduce((s, v) => s + v * v, 0));
    for (let d = 0; d < D; d++) {
      const ref = y[d]! / norm;
      num += (got[i * D + d]! - ref) ** 2;
      den += ref * ref;
    }
  }
  return Math.sqrt(num / den);
}

function encodeCase(n: number): BenchCase {
  const texts = titles(n, 5);
  const tokens = texts.reduce((s, t) => s + t.length, 0);
  return {
    kernel: 'ebr_encode',
    shape: `${n}products_${E}to${D}`,
    system: 'ours',
    bytes: tokens * E * 4, // embedding rows gathered
    ceiling: 'bandwidth',
    async setup(): Promise<BenchInstance> {
      const m = initBiEncoder({ vocabSize: V, embedDim: E, dim: D }, 3);
      let last: Float32Array = new Float32Array(0);
      const run = async () => {
        last = await encodeAllHost(m, 'product', texts, 512);
      };
      return {
        run,
        async relErr() {
          await run();
          return refErr(m, texts, last, Math.min(32, n));
        },
        dispose: () => disposeBiEncoder(m),
      };
    },
  };
}

export const suite: BenchSuite = {
  name: 'ebr-encode',
  cases(o: BenchOpts): BenchCase[] {
    const n = o.smoke ? 37 : 100_000;
    return o.size !== undefined && o.size !== n ? [] : [encodeCase(n)];
  },
};
