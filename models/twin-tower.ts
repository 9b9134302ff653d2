// The online twin-tower relevance model of section 3.5: a query tower and an item tower, each a small
// bidirectional transformer encoder (pre-norm LayerNorm → attention without a causal mask, padded
// keys masked by keyLengths → residual; LayerNorm → GELU MLP → residual), final LayerNorm, mean
// pooling of the last layer over the valid tokens and a linear projection to `outDim` (128 in the
// paper). The token embedding table is SHARED by both towers (one tensor; both towers' gradients
// add into it); every other parameter belongs to one tower. Scoring is c = cos(q, p), p̂ = σ(s·c)
// and training is eq. 4 (engine kdBce, which fuses the cosine, the sigmoid and the BCE).
// RoPE on q and k gives the encoder word order; without it attention + mean pooling is a bag of tokens.
import {
  add,
  attention,
  fill,
  gatherRows,
  gelu,
  keep,
  release,
  layerNorm,
  linear,
  mul,
  randn,
  reshape,
  rope,
  sum,
  tensor,
  type Tensor,
} from '../engine/index.ts';
import { rng } from '../engine/random.ts';

export interface TwinTowerConfig {
  vocabSize: number;
  dim: number;
  nLayers: number;
  nHeads: number;
  ffnDim: number;
  /** Size of the tower outputs (paper: 128). */
  outDim: number;
  /** Longest token sequence a tower reads (longer texts are cut). */
  maxLen: number;
  normEps: number;
  ropeTheta: number;
}

export interface EncoderLayer {
  ln1w: Tensor;
  ln1b: Tensor;
  wq: Tensor;
  wk: Tensor;
  wv: Tensor;
  wo: Tensor;
  ln2w: Tensor;
  ln2b: Tensor;
  w1: Tensor;
  b1: Tensor;
  w2: Tensor;
  b2: Tensor;
}

/** One tower's private parameters. */
export interface Tower {
  layers: EncoderLayer[];
  lnFw: Tensor;
  lnFb: Tensor;
  proj: Tensor; // [outDim, dim]
}

export interface TwinTower {
  config: TwinTowerConfig;
  /** Shared token embedding [vocab, dim]. */
  embed: Tensor;
  query: Tower;
  item: Tower;
}

export type TowerSide = 'query' | 'item';

/** Right-padded token ids of one tower's batch, with the pooling weights 1/len on valid tokens. */
export interface TokenBatch {
  ids: Tensor; // i32 [B, T]
  hostIds?: Int32Array; // the same ids on the host (the embedding's faster backward)
  positions: Tensor; // i32 [B, T]
  lengths: Tensor; // i32 [B]
  pool: Tensor; // f32 [B, T, 1]
  B: number;
  T: number;
}

export function validateTwinConfig(c: TwinTowerConfig): TwinTowerConfig {
  const bad = (why: string) => {
    throw new Error(`twin tower config: ${why} (${JSON.stringify(c)})`);
  };
  for (const k of ['vocabSize', 'dim', 'nLayers', 'nHeads', 'ffnDim', 'outDim', 'maxLen'] as const)
    if (!(Number.isInteger(c[k]) && c[k] >= 1)) bad(`${k} must be a positive integer`);
  if (c.dim % c.nHeads !== 0) bad(`dim ${c.dim} is not a multiple of nHeads ${c.nHeads}`);
  const hd = c.dim / c.nHeads;
  if (hd % 4 !== 0) bad(`head dim ${hd} must be a multiple of 4 (attention kernel)`);
  return c;
}

/** Random initialisation (std 0.02, residual projections scaled by 1/√(2L), LayerNorm 1/0). */
export function initTwinTower(config: TwinTowerConfig, seed: number): TwinTower {
  const c = validateTwinConfig(config);
  const r = rng(seed);
  const std = 0.02;
  const resid = std / Math.sqrt(2 * c.nLayers);
  const w = (shape: number[], s = std) => keep(randn(shape, { rng: r, std: s }));
  const k = (n: number, v: number) => keep(fill([n], v));
  const tower = (): Tower => ({
    layers: Array.from({ length: c.nLayers }, () => ({
      ln1w: k(c.dim, 1), ln1b: k(c.dim, 0),
      wq: w([c.dim, c.dim]), wk: w([c.dim, c.dim]), wv: w([c.dim, c.dim]), wo: w([c.dim, c.dim], resid),
      ln2w: k(c.dim, 1), ln2b: k(c.dim, 0),
      w1: w([c.ffnDim, c.dim]), b1: k(c.ffnDim, 0), w2: w([c.dim, c.ffnDim], resid), b2: k(c.dim, 0),
    })),
    lnFw: k(c.dim, 1),
    lnFb: k(c.dim, 0),
    proj: w([c.outDim, c.dim], 1 / Math.sqrt(c.dim)),
  });
  const m: TwinTower = { config: c, embed: w([c.vocabSize, c.dim]), query: tower(), item: tower() };
  for (const p of twinParams(m)) p.requiresGrad = true;
  return m;
}

const LAYER_NAMES = ['ln1w', 'ln1b', 'wq', 'wk', 'wv', 'wo', 'ln2w', 'ln2b', 'w1', 'b1', 'w2', 'b2'] as const;

/** One tower's private parameters, in a fixed order. */
export function towerParams(t: Tower): Tensor[] {
  return [...t.layers.flatMap((l) => LAYER_NAMES.map((n) => l[n])), t.lnFw, t.lnFb, t.proj];
}

/** All parameters: the shared embedding once, then the query tower, then the item tower. */
export function twinParams(m: TwinTower): Tensor[] {
  return [m.embed, ...towerParams(m.query), ...towerParams(m.item)];
}

/** Checkpoint names: `embed`, `query.layers.0.wq`, `item.proj`, … */
export function namedTwinTensors(m: TwinTower): Record<string, Tensor> {
  const out: Record<string, Tensor> = { embed: m.embed };
  for (const side of ['query', 'item'] as const) {
    const t = m[side];
    t.layers.forEach((l, i) => {
      for (const n of LAYER_NAMES) out[`${side}.layers.${i}.${n}`] = l[n];
    });
    out[`${side}.lnFw`] = t.lnFw;
    out[`${side}.lnFb`] = t.lnFb;
    out[`${side}.proj`] = t.proj;
  }
  return out;
}

export function disposeTwinTower(m: TwinTower): void {
  release(...twinParams(m));
}

/** Builds a batch from token sequences (each non-empty, at most maxLen); call inside a scope. */
export function buildTokenBatch(seqs: readonly (readonly number[])[], padId: number, maxLen: number): TokenBatch {
  if (seqs.length === 0) throw new Error('twin tower: empty batch');
  const B = seqs.length;
  const T = Math.max(...seqs.map((s) => s.length));
  seqs.forEach((s, i) => {
    if (s.length === 0) throw new Error(`twin tower: sequence ${i} of the batch is empty`);
    if (s.length > maxLen) throw new Error(`twin tower: sequence ${i} has ${s.length} tokens, more than maxLen ${maxLen}`);
  });
  const ids = new Int32Array(B * T).fill(padId);
  const pos = new Int32Array(B * T);
  const pool = new Float32Array(B * T);
  seqs.forEach((s, b) => {
    for (let t = 0; t < s.length; t++) {
      ids[b * T + t] = s[t]!;
      pos[b * T + t] = t;
      pool[b * T + t] = 1 / s.length; // mean pooling over the valid tokens only
    }
    for (let t = s.length; t < T; t++) pos[b * T + t] = t;
  });
  return {
    ids: tensor(ids, [B, T], { dtype: 'i32' }),
    hostIds: ids,
    positions: tensor(pos, [B, T], { dtype: 'i32' }),
    lengths: tensor(seqs.map((s) => s.length), [B], { dtype: 'i32' }),
    pool: tensor(pool, [B, T, 1]),
    B,
    T,
  };
}

/** One tower's output [B, outDim] (not normalised: kdBce and the serving path take the cosine). */
export function encodeTower(m: TwinTower, side: TowerSide, batch: TokenBatch): Tensor {
  const c = m.config;
  const t = m[side];
  const { B, T } = batch;
  const hd = c.dim / c.nHeads;
  let x = gatherRows(m.embed, batch.ids, batch.hostIds); // [B, T, D], the shared table
  for (const l of t.layers) {
    const h = layerNorm(x, l.ln1w, l.ln1b, c.normEps);
    const q = rope(reshape(linear(h, l.wq), [B, T, c.nHeads, hd]), batch.positions, c.ropeTheta);
    const k = rope(reshape(linear(h, l.wk), [B, T, c.nHeads, hd]), batch.positions, c.ropeTheta);
    const v = reshape(linear(h, l.wv), [B, T, c.nHeads, hd]);
    // bidirectional: every token sees every valid token of its text; padded keys are masked
    const att = attention(q, k, v, { causal: false, keyLengths: batch.lengths });
    x = add(x, linear(reshape(att, [B, T, c.dim]), l.wo));
    const h2 = layerNorm(x, l.ln2w, l.ln2b, c.normEps);
    x = add(x, linear(gelu(linear(h2, l.w1, l.b1)), l.w2, l.b2));
  }
  const hf = layerNorm(x, t.lnFw, t.lnFb, c.normEps);
  const pooled = sum(mul(hf, batch.pool), 1); // [B, D]: mean over valid tokens (pool = 1/len or 0)
  return linear(pooled, t.proj);
}
