// The EBR bi-encoder of retrieval-based query augmentation (section 3.3): a query tower and a
// product tower over one shared token-embedding table, each = masked mean pooling of the token
// embeddings, a linear projection to `dim`, then L2 normalisation, so ⟨q, p⟩ is a cosine in [−1, 1]
// that eq. 1's MSE term can pull towards a CVR in [0, 1].
// Mean pooling is one matmul with a [B, N] pooling matrix (1/len on a text's own tokens), over the
// texts' tokens packed without padding, so there is no padding to mask.
import {
  gatherRows,
  keep,
  linear,
  matmul,
  mulScalar,
  noGrad,
  randn,
  read,
  fill,
  rmsNorm,
  scopeAsync,
  tensor,
  type Tensor,
} from '../engine/index.ts';
import { rng } from '../engine/random.ts';

export interface BiEncoderConfig {
  vocabSize: number;
  /** Token embedding size (the base model's dim when its table seeds ours). */
  embedDim: number;
  /** Output embedding size. */
  dim: number;
}

export interface BiEncoder {
  config: BiEncoderConfig;
  embed: Tensor; // [V, embedDim], shared by both towers
  qProj: Tensor; // [dim, embedDim]
  pProj: Tensor; // [dim, embedDim]
  ones: Tensor; // [dim], the constant RMSNorm weight used for L2 normalisation
}

export type Tower = 'query' | 'product';

/** A fresh bi-encoder; `embedInit` (e.g. the base LM's embedding table, [V, embedDim]) seeds the token table. */
export function initBiEncoder(c: BiEncoderConfig, seed: number, embedInit?: Float32Array): BiEncoder {
  if (!(c.vocabSize >= 1 && c.embedDim >= 1 && c.dim >= 1)) throw new Error(`initBiEncoder: bad config ${JSON.stringify(c)}`);
  if (embedInit && embedInit.length !== c.vocabSize * c.embedDim) {
    throw new Error(`initBiEncoder: embedding init has ${embedInit.length} values, expected ${c.vocabSize}×${c.embedDim}`);
  }
  const r = rng(seed);
  const std = 1 / Math.sqrt(c.embedDim);
  const p = (t: Tensor) => {
    t.requiresGrad = true;
    return keep(t);
  };
  return {
    config: c,
    embed: p(embedInit ? tensor(embedInit, [c.vocabSize, c.embedDim]) : randn([c.vocabSize, c.embedDim], { rng: r, std: 0.02 })),
    qProj: p(randn([c.dim, c.embedDim], { rng: r, std })),
    pProj: p(randn([c.dim, c.embedDim], { rng: r, std })),
    ones: keep(fill([c.dim], 1)),
  };
}

export function biEncoderParams(m: BiEncoder): Tensor[] {
  return [m.embed, m.qProj, m.pProj];
}

export function biEncoderTensors(m: BiEncoder): Record<string, Tensor> {
  return { embed: m.embed, qProj: m.qProj, pProj: m.pProj };
}

export function disposeBiEncoder(m: BiEncoder): void {
  for (const t of [m.embed, m.qProj, m.pProj, m.ones]) t.dispose();
}

/** Unit-norm embeddings [B, dim] of tokenised texts (each must have ≥ 1 token) through one tower. */
export function encodeTexts(m: BiEncoder, tower: Tower, texts: readonly (readonly number[])[]): Tensor {
  const B = texts.length;
  if (B === 0) throw new Error(`encodeTexts(${tower}): no texts`);
  const N = texts.reduce((s, t) => s + t.length, 0);
  const ids = new Int32Array(N);
  const pool = new Float32Array(B * N);
  let at = 0;
  texts.forEach((t, b) => {
    if (t.length === 0) throw new Error(`encodeTexts(${tower}): text ${b} has no tokens`);
    for (const id of t) {
      if (!(id >= 0 && id < m.config.vocabSize)) throw new Error(`encodeTexts(${tower}): text ${b} has token id ${id} outside [0, ${m.config.vocabSize})`);
      pool[b * N + at] = 1 / t.length;
      ids[at++] = id;
    }
  });
  const tok = gatherRows(m.embed, tensor(ids, [N], { dtype: 'i32' })); // [N, embedDim]
  const mean = matmul(tensor(pool, [B, N]), tok); // [B, embedDim]
  const y = linear(mean, tower === 'query' ? m.qProj : m.pProj); // [B, dim]
  // RMSNorm with unit weight gives norm √dim; the scale makes it 1.
  return mulScalar(rmsNorm(y, m.ones, 1e-12), 1 / Math.sqrt(m.config.dim));
}

/** Embeddings of many texts, in batches, read back to the host as one [n·dim] array. */
export async function encodeAllHost(m: BiEncoder, tower: Tower, texts: readonly (readonly number[])[], batch = 512): Promise<Float32Array> {
  const out = new Float32Array(texts.length * m.config.dim);
  for (let s = 0; s < texts.length; s += batch) {
    const part = texts.slice(s, s + batch);
    const v = await scopeAsync(async () => read(noGrad(() => encodeTexts(m, tower, part))));
    out.set(v, s * m.config.dim);
  }
  return out;
}
