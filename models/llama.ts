// A Llama-family decoder LM on engine ops: token embedding, N blocks of
// (RMSNorm → attention with RoPE → residual, RMSNorm → SwiGLU MLP → residual), final RMSNorm,
// LM head (tied or untied), and optional LoRA adapters (PEFT semantics) on chosen projections.
import {
  add,
  linearAdd,
  swigluLinear,
  noGrad,
  attention,
  concat,
  dropout,
  gatherRows,
  isGradEnabled,
  keep,
  release,
  loraInit,
  loraLinear,
  randn,
  fill,
  reshape,
  rmsNorm,
  rope,
  scope,
  swiglu,
  tensor,
  toBackend,
  type Backend,
  type Tensor,
} from '../engine/index.ts';
import { lmCrossEntropy, lmHeadCrossEntropy, type LmHeadCrossEntropyOpts } from '../engine/losses/index.ts';
import { rng } from '../engine/random.ts';
import { headDim, paramCounts, validateConfig, type LlamaConfig, type LoraConfig } from './llama-config.ts';
import { denseT, type Precision } from './mixed-precision.ts';

export interface Lora {
  a: Tensor;
  b: Tensor;
}

export interface LlamaLayer {
  attnNorm: Tensor;
  wq: Tensor;
  wk: Tensor;
  wv: Tensor;
  wo: Tensor;
  mlpNorm: Tensor;
  wGate: Tensor;
  wUp: Tensor;
  wDown: Tensor;
  lora: Partial<Record<string, Lora>>;
}

export interface Llama {
  config: LlamaConfig;
  embed: Tensor;
  layers: LlamaLayer[];
  finalNorm: Tensor;
  lmHead: Tensor | null; // null when tied to the embedding
  labelHead: Tensor | null; // [3, dim]: the relevance answer's own output rows (untieLabels); null: the LM head's rows
}

/** Inputs of one forward pass: right-padded token ids, their positions and the valid lengths. */
export interface Batch {
  ids: Tensor; // i32 [B, T]
  hostIds?: Int32Array; // the same ids on the host, where the batch was built there (the embedding's faster backward)
  positions: Tensor; // i32 [B, T]
  lengths: Tensor; // i32 [B]
  B: number;
  T: number;
}

export interface ForwardOpts {
  training?: boolean; // LoRA dropout and residual dropout on
  seed?: number; // dropout seed for this step
  /** Residual dropout (training only): each attention and MLP block's output is dropped with this
   * probability before its residual add (GPT-2/BERT's hidden dropout; 0 or absent: none, and the
   * fused residual products run as before). */
  dropout?: number;
  cache?: KvCache; // incremental decoding: keys/values of earlier tokens (batch of one sequence)
  precision?: Precision; // 'mixed-f16': the projections' products in f16 (mixed-precision.ts); default f32
}

/** Keys and values of the tokens seen so far, per layer ([1, len, nKvHeads, headDim]). */
export interface KvCache {
  k: (Tensor | null)[];
  v: (Tensor | null)[];
  len: number;
}

const BASE_NAMES = ['attnNorm', 'wq', 'wk', 'wv', 'wo', 'mlpNorm', 'wGate', 'wUp', 'wDown'] as const;
type LoraTarget = LoraConfig['targets'][number];
const LORA_TARGET_WEIGHT: Record<LoraTarget, keyof LlamaLayer> = { q: 'wq', k: 'wk', v: 'wv', o: 'wo', gate: 'wGate', up: 'wUp', down: 'wDown' };

/**
 * The random streams of the decoder, by name. Each projection owns a fixed slot (a new one takes a
 * free slot and moves no other stream); the formulas are those the committed base model and the
 * demo's numbers were made with, so they stay as they are.
 *   LoRA dropout of projection t in layer l at step seed s: s·7919 + 8·l + slot(t)   (slots 1…7)
 *   LoRA initialisation of t in layer l for seed s:         s + 101·l + code of t's first letter
 *   residual dropout of block b (0 attention, 1 MLP) of layer l at step seed s: (s·7919 + 8·l + b) xor 0x5bd1e995
 *     (the xor moves it off LoRA's seeds of the same form, whose masks cover the same [rows, dim] shapes)
 */
const LORA_DROPOUT_SLOT: Record<LoraTarget, number> = { q: 1, k: 2, v: 3, o: 4, gate: 5, up: 6, down: 7 };
const loraDropoutSeed = (stepSeed: number, layer: number, t: LoraTarget) => (stepSeed * 7919 + 8 * layer + LORA_DROPOUT_SLOT[t]) >>> 0;
const residDropoutSeed = (stepSeed: number, layer: number, block: 0 | 1) => ((stepSeed * 7919 + 8 * layer + block) ^ 0x5bd1e995) >>> 0;
const loraInitSeed = (seed: number, layer: number, t: LoraTarget) => seed + 101 * layer + t.charCodeAt(0);
if (new Set(Object.values(LORA_DROPOUT_SLOT)).size !== 7 || new Set(Object.keys(LORA_DROPOUT_SLOT).map((t) => t[0])).size !== 7) {
  throw new Error('llama.ts: LoRA targets need distinct dropout slots and distinct first letters (their seeds)');
}

/** Random initialisation (std 0.02, residual projections scaled by 1/√(2L) as in GPT-2/Llama). */
export function initLlama(config: LlamaConfig, seed: number): Llama {
  const c = validateConfig(config);
  const r = rng(seed);
  const hd = headDim(c);
  const std = 0.02;
  const resid = std / Math.sqrt(2 * c.nLayers);
  const w = (shape: number[], s = std) => keep(randn(shape, { rng: r, std: s }));
  const ones = (n: number) => keep(fill([n], 1));
  const layers: LlamaLayer[] = [];
  for (let l = 0; l < c.nLayers; l++) {
    layers.push({
      attnNorm: ones(c.dim),
      wq: w([c.nHeads * hd, c.dim]),
      wk: w([c.nKvHeads * hd, c.dim]),
      wv: w([c.nKvHeads * hd, c.dim]),
      wo: w([c.dim, c.nHeads * hd], resid),
      mlpNorm: ones(c.dim),
      wGate: w([c.ffnDim, c.dim]),
      wUp: w([c.ffnDim, c.dim]),
      wDown: w([c.dim, c.ffnDim], resid),
      lora: {},
    });
  }
  const m: Llama = {
    config: c,
    embed: w([c.vocabSize, c.dim]),
    layers,
    finalNorm: ones(c.dim),
    lmHead: c.tieEmbeddings ? null : w([c.vocabSize, c.dim]),
    labelHead: c.labelHead ? w([3, c.dim]) : null,
  };
  for (const p of baseParams(m)) p.requiresGrad = true; // full training until addLora freezes the base
  return m;
}

/**
 * Gives the relevance answer its own output rows: a [3, dim] copy of the LM head's rows of the label
 * tokens, which labelLogits reads from here on; the LM head (tied or not) stays as it is for the
 * language-model losses. Why fine-tuning wants it: the answer is a digit token ("0", "1", "2"), and
 * with a tied head every label gradient also moves those digits' input embedding, which the prompts
 * read in sizes and counts ("250mm" is ▁ 2 5 0 mm). The translation task keeps training the tied
 * table, input and output rows together (untying the whole head measured worse with it: README).
 */
export function untieLabels(m: Llama, labelIds: readonly [number, number, number]): void {
  if (m.labelHead) throw new Error('untieLabels: the model already has its own label head');
  if (m.config.lora) throw new Error('untieLabels: a model with LoRA adapters keeps its base frozen; give it a label head before adding adapters, for full fine-tuning');
  const head = m.lmHead ?? m.embed;
  const rows = keep(noGrad(() => gatherRows(head, tensor([...labelIds], [3], { dtype: 'i32', backend: head.backend }), labelIds)));
  rows.requiresGrad = m.embed.requiresGrad;
  m.labelHead = rows;
  m.config = validateConfig({ ...m.config, labelHead: [...labelIds] as [number, number, number] });
}

/** Adds fresh LoRA adapters (A ~ U(±1/√in), B = 0) on config.lora.targets; the base is frozen. */
export function addLora(m: Llama, lora: NonNullable<LlamaConfig['lora']>, seed: number): void {
  m.config = { ...m.config, lora };
  for (const p of baseParams(m)) p.requiresGrad = false;
  m.layers.forEach((layer, l) => {
    for (const t of lora.targets) {
      const wName = LORA_TARGET_WEIGHT[t];
      if (!wName) throw new Error(`addLora: unknown target "${t}"`);
      const wt = layer[wName] as Tensor;
      const [out, inF] = wt.shape as [number, number];
      const { a, b } = loraInit(inF, out, lora.r, loraInitSeed(seed, l, t));
      keep(a);
      keep(b);
      a.requiresGrad = b.requiresGrad = true;
      layer.lora[t] = { a, b };
    }
  });
}

export function baseParams(m: Llama): Tensor[] {
  const out = [m.embed];
  for (const l of m.layers) for (const n of BASE_NAMES) out.push(l[n]);
  out.push(m.finalNorm);
  if (m.lmHead) out.push(m.lmHead);
  if (m.labelHead) out.push(m.labelHead);
  return out;
}

export function loraParams(m: Llama): Tensor[] {
  return m.layers.flatMap((l) => Object.values(l.lora).flatMap((ad) => [ad!.a, ad!.b]));
}

/** Parameters that receive gradients: the LoRA adapters if any, else the whole base. */
export function trainableParams(m: Llama): Tensor[] {
  const lp = loraParams(m);
  return lp.length > 0 ? lp : baseParams(m);
}

/**
 * The base tensors that weight decay leaves alone under `decayOn: "matrices"` (GPT-style training):
 * the token tables (embedding, untied LM head, label head) and the norm gains. A fine-tuning stream that uses
 * only some tokens (one market's language) gives the other rows no gradient, and decay alone would
 * shrink them towards zero: the other market's words the base taught would fade.
 */
export function noDecayParams(m: Llama): Tensor[] {
  const out = [m.embed, m.finalNorm, ...m.layers.flatMap((l) => [l.attnNorm, l.mlpNorm])];
  if (m.lmHead) out.push(m.lmHead);
  if (m.labelHead) out.push(m.labelHead);
  return out;
}

/** The trainable share, as the paper reports (1.07% for Orion-14B with r = 128 on q/k/v). */
export function trainableReport(m: Llama): { total: number; trainable: number; share: number } {
  const { base, lora } = paramCounts(m.config);
  const total = base + lora;
  // full fine-tuning with the token table frozen (requiresGrad off) trains the rest of the base
  const trainable = lora > 0 ? lora : m.embed.requiresGrad ? base : base - m.embed.size;
  return { total, trainable, share: trainable / total };
}

/** Named tensors in Hugging Face Llama naming (checkpoints and safetensors use these names). */
export function namedTensors(m: Llama, which: 'base' | 'lora' | 'all' = 'all'): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  if (which !== 'lora') {
    out['model.embed_tokens.weight'] = m.embed;
    m.layers.forEach((l, i) => {
      const p = `model.layers.${i}`;
      out[`${p}.input_layernorm.weight`] = l.attnNorm;
      out[`${p}.self_attn.q_proj.weight`] = l.wq;
      out[`${p}.self_attn.k_proj.weight`] = l.wk;
      out[`${p}.self_attn.v_proj.weight`] = l.wv;
      out[`${p}.self_attn.o_proj.weight`] = l.wo;
      out[`${p}.post_attention_layernorm.weight`] = l.mlpNorm;
      out[`${p}.mlp.gate_proj.weight`] = l.wGate;
      out[`${p}.mlp.up_proj.weight`] = l.wUp;
      out[`${p}.mlp.down_proj.weight`] = l.wDown;
    });
    out['model.norm.weight'] = m.finalNorm;
    if (m.lmHead) out['lm_head.weight'] = m.lmHead;
    if (m.labelHead) out['label_head.weight'] = m.labelHead;
  }
  if (which !== 'base') {
    const mod: Record<string, string> = { q: 'self_attn.q_proj', k: 'self_attn.k_proj', v: 'self_attn.v_proj', o: 'self_attn.o_proj', gate: 'mlp.gate_proj', up: 'mlp.up_proj', down: 'mlp.down_proj' };
    m.layers.forEach((l, i) => {
      for (const [t, ad] of Object.entries(l.lora)) {
        out[`base_model.model.model.layers.${i}.${mod[t]}.lora_A.weight`] = ad!.a;
        out[`base_model.model.model.layers.${i}.${mod[t]}.lora_B.weight`] = ad!.b;
      }
    });
  }
  return out;
}

function proj(m: Llama, layer: LlamaLayer, l: number, t: LoraTarget, x: Tensor, o: ForwardOpts): Tensor {
  const w = layer[LORA_TARGET_WEIGHT[t]] as Tensor;
  const ad = layer.lora[t];
  if (!ad || !m.config.lora) return denseT(x, w, o.precision);
  const L = m.config.lora;
  return loraLinear(x, w, ad.a, ad.b, {
    scale: L.alpha / L.r,
    dropout: L.dropout,
    seed: loraDropoutSeed(o.seed ?? 0, l, t),
    training: o.training ?? false,
  });
}

/** The weights mixed precision multiplies in f16 (denseT): every projection without an active LoRA
 * adapter, the LM head (or the tied embedding) and the label head; for withHalfWeights. */
export function halfPrecisionWeights(m: Llama): Tensor[] {
  const out: Tensor[] = [];
  for (const layer of m.layers) {
    for (const t of Object.keys(LORA_TARGET_WEIGHT) as LoraTarget[]) if (!(layer.lora[t] && m.config.lora)) out.push(layer[LORA_TARGET_WEIGHT[t]] as Tensor);
  }
  out.push(m.lmHead ?? m.embed);
  if (m.labelHead) out.push(m.labelHead);
  return out;
}

/** Whether projection t is a plain f32 product (no LoRA adapter, no mixed precision): the fused kernels' condition. */
const dense = (m: Llama, layer: LlamaLayer, t: LoraTarget, o: ForwardOpts) => !(layer.lora[t] && m.config.lora) && (o.precision ?? 'f32') === 'f32';

/** Residual dropout's probability where it applies (training, p > 0), else 0. */
const residDrop = (o: ForwardOpts) => (o.training && o.dropout ? o.dropout : 0);

/**
 * resid + proj(x), the output of block `block` of layer l: the dense f32 projection adds the residual
 * in its product's writes (linearAdd: the same bits, one dispatch fewer); with residual dropout the
 * projection's output is dropped before the add.
 */
function projAdd(m: Llama, layer: LlamaLayer, l: number, t: LoraTarget, x: Tensor, resid: Tensor, o: ForwardOpts, block: 0 | 1): Tensor {
  const p = residDrop(o);
  if (p > 0) return add(resid, dropout(proj(m, layer, l, t, x, o), p, residDropoutSeed(o.seed ?? 0, l, block)));
  return dense(m, layer, t, o) ? linearAdd(x, layer[LORA_TARGET_WEIGHT[t]] as Tensor, resid) : add(resid, proj(m, layer, l, t, x, o));
}

/** One query row per sequence (forwardRows): flat indices b·T + t_b, positions t_b [B, 1], key lengths t_b + 1 [B]. */
interface QueryRows {
  idx: Tensor;
  pos: Tensor;
  keyLengths: Tensor;
}

/**
 * The attention block of layer l (pre-norm, RoPE, residual) on x [B, T, dim]: at every position, or,
 * with `rows`, keys and values at every position and the query, attention and residual at one row per
 * sequence → [B, dim] (keys past t_b masked by the lengths: what the causal mask lets that row see).
 */
function attnBlock(m: Llama, batch: Batch, layer: LlamaLayer, l: number, x: Tensor, o: ForwardOpts, rows?: QueryRows): Tensor {
  const c = m.config;
  const hd = headDim(c);
  const { B, T } = batch;
  // with `rows`, the block reads x as [B·T, dim] rows: the gathers (query, residual) and the products
  // (k, v) then read one tensor, whose gradients the engine sums in place (autograd's `into`)
  const xin = rows ? reshape(x, [B * T, c.dim]) : x;
  const h = rmsNorm(xin, layer.attnNorm, c.normEps);
  const q = rows
    ? rope(reshape(proj(m, layer, l, 'q', gatherRows(h, rows.idx), o), [B, 1, c.nHeads, hd]), rows.pos, c.ropeTheta)
    : rope(reshape(proj(m, layer, l, 'q', h, o), [B, T, c.nHeads, hd]), batch.positions, c.ropeTheta);
  const k = rope(reshape(proj(m, layer, l, 'k', h, o), [B, T, c.nKvHeads, hd]), batch.positions, c.ropeTheta);
  let k2 = k;
  let v = reshape(proj(m, layer, l, 'v', h, o), [B, T, c.nKvHeads, hd]);
  let att: Tensor;
  if (rows) {
    att = attention(q, k2, v, { causal: false, keyLengths: rows.keyLengths });
  } else if (o.cache) {
    const ck = o.cache.k[l];
    const cv = o.cache.v[l];
    if (ck && cv) {
      k2 = concat([ck, k2], 1);
      v = concat([cv, v], 1);
    }
    o.cache.k[l] = k2;
    o.cache.v[l] = v;
    att = attention(q, k2, v, { causal: true, queryOffset: o.cache.len });
  } else {
    att = attention(q, k2, v, { causal: true, keyLengths: batch.lengths });
  }
  const resid = rows ? gatherRows(xin, rows.idx) : x;
  return projAdd(m, layer, l, 'o', reshape(att, rows ? [B, c.nHeads * hd] : [B, T, c.nHeads * hd]), resid, o, 0);
}

/** The SwiGLU MLP block of layer l (pre-norm, residual) on rows of any leading shape. */
function mlpBlock(m: Llama, layer: LlamaLayer, l: number, x: Tensor, o: ForwardOpts): Tensor {
  const h2 = rmsNorm(x, layer.mlpNorm, m.config.normEps);
  const gate = proj(m, layer, l, 'gate', h2, o);
  // a dense f32 up projection applies the activation in its writes (swigluLinear: the same bits)
  const act = dense(m, layer, 'up', o) ? swigluLinear(gate, h2, layer[LORA_TARGET_WEIGHT.up] as Tensor) : swiglu(gate, proj(m, layer, l, 'up', h2, o));
  return projAdd(m, layer, l, 'down', act, x, o, 1);
}

/** Layers [0, upTo) over every position; without a tape each block's intermediates are freed at once. */
function runLayers(m: Llama, batch: Batch, x: Tensor, upTo: number, o: ForwardOpts): Tensor {
  // Without a tape nothing of a block is needed once its output exists: free each attention and MLP
  // block's intermediates and input as soon as it is done, so inference holds one block's working set
  // instead of every layer's (scoring: ~4–7× less device memory). With a tape the backward needs them.
  const eager = !isGradEnabled();
  m.layers.slice(0, upTo).forEach((layer, l) => {
    if (!eager) {
      x = mlpBlock(m, layer, l, attnBlock(m, batch, layer, l, x, o), o);
      return;
    }
    for (const blk of [(y: Tensor) => attnBlock(m, batch, layer, l, y, o), (y: Tensor) => mlpBlock(m, layer, l, y, o)]) {
      const prev = x;
      // new KV-cache entries outlive the block: returning them keeps them from the scope
      x = scope(() => ({ y: blk(prev), k: o.cache?.k[l], v: o.cache?.v[l] })).y;
      prev.dispose();
    }
  });
  return x;
}

/** Runs the decoder; returns the final-norm hidden states [B, T, dim]. */
export function forwardHidden(m: Llama, batch: Batch, o: ForwardOpts = {}): Tensor {
  const x = runLayers(m, batch, gatherRows(m.embed, batch.ids, batch.hostIds), m.layers.length, o);
  const y = rmsNorm(x, m.finalNorm, m.config.normEps);
  if (!isGradEnabled()) x.dispose();
  return y;
}

/**
 * The final-norm hidden state at one position per sequence, rows[b] = b·T + t_b → [B, dim]: equal to
 * hiddenRows(forwardHidden(m, batch), rows), computed with less work. Nothing after the last layer's
 * keys and values looks at the other positions, so the last layer computes keys and values for every
 * position and the query, attention output, o-projection and MLP only at the chosen ones (its query
 * sees keys 0…t_b, as the causal mask would). For a relevance prompt, whose loss reads only the
 * answer slot, this drops nearly all of the last layer (a 2-layer model: ≈ 45% of the step's
 * products). Not for incremental decoding (no cache).
 */
export function forwardRows(m: Llama, batch: Batch, rows: readonly number[], o: ForwardOpts = {}): Tensor {
  const { B, T } = batch;
  if (o.cache) throw new Error('forwardRows: incremental decoding (cache) is not supported; use forwardHidden');
  if (rows.length !== B) throw new Error(`forwardRows: ${rows.length} rows for a batch of ${B} sequences (one per sequence)`);
  const pos = rows.map((r, b) => {
    const t = r - b * T;
    if (!Number.isInteger(r) || t < 0 || t >= T) throw new Error(`forwardRows: row ${r} of sequence ${b} is outside its positions [${b * T}, ${(b + 1) * T})`);
    return t;
  });
  const lastL = m.layers.length - 1;
  const x = runLayers(m, batch, gatherRows(m.embed, batch.ids, batch.hostIds), lastL, o);
  const backend = x.backend;
  const q: QueryRows = {
    idx: tensor([...rows], [B], { dtype: 'i32', backend }),
    pos: tensor(pos, [B, 1], { dtype: 'i32', backend }),
    keyLengths: tensor(pos.map((t) => t + 1), [B], { dtype: 'i32', backend }),
  };
  const layer = m.layers[lastL]!;
  return rmsNorm(mlpBlock(m, layer, lastL, attnBlock(m, batch, layer, lastL, x, o, q), o), m.finalNorm, m.config.normEps);
}

/** Logits for selected hidden rows: rows [N, dim] → [N, vocab]. */
export function lmLogits(m: Llama, rows: Tensor, precision: Precision = 'f32'): Tensor {
  return denseT(rows, m.lmHead ?? m.embed, precision);
}

/**
 * The LM loss of selected hidden rows [N, dim] against i32 targets [N]: lmCrossEntropy of their
 * logits. In f32 the head and its loss are one op (lmHeadCrossEntropy: the log-sum-exp comes out of
 * the head's product, no separate pass over the [N, vocab] logits); mixed precision multiplies in f16
 * and runs the loss on the f32 logits, whose storage then holds their gradient.
 */
export function lmLoss(m: Llama, rows: Tensor, targets: Tensor, opts: LmHeadCrossEntropyOpts = {}, precision: Precision = 'f32'): Tensor {
  if (precision === 'f32') return lmHeadCrossEntropy(rows, m.lmHead ?? m.embed, targets, opts);
  return lmCrossEntropy(lmLogits(m, rows, precision), targets, { ...opts, overwriteLogits: true });
}

/** Hidden rows at flat indices b·T + t (e.g. the answer positions), [N, dim]. */
export function hiddenRows(hidden: Tensor, flatIdx: number[]): Tensor {
  const [B, T, D] = hidden.shape as [number, number, number];
  const flat = reshape(hidden, [B * T, D]);
  const idx = tensor(flatIdx, [flatIdx.length], { dtype: 'i32', backend: hidden.backend });
  return gatherRows(flat, idx);
}

/** A copy of the model (base and adapters) on the other backend, e.g. the float64 reference the benchmarks check against. */
export async function llamaOnBackend(m: Llama, backend: Backend): Promise<Llama> {
  if (m.embed.backend === backend) throw new Error(`llamaOnBackend: the model is already on the ${backend} backend`);
  const mv = async (t: Tensor) => {
    const c = keep(await toBackend(t, backend));
    c.requiresGrad = t.requiresGrad;
    return c;
  };
  const layers: LlamaLayer[] = [];
  for (const l of m.layers) {
    const copy = { lora: {} } as LlamaLayer;
    for (const n of BASE_NAMES) copy[n] = await mv(l[n]);
    for (const [t, ad] of Object.entries(l.lora)) copy.lora[t] = { a: await mv(ad!.a), b: await mv(ad!.b) };
    layers.push(copy);
  }
  return { config: m.config, embed: await mv(m.embed), layers, finalNorm: await mv(m.finalNorm), lmHead: m.lmHead ? await mv(m.lmHead) : null, labelHead: m.labelHead ? await mv(m.labelHead) : null };
}

export function disposeLlama(m: Llama): void {
  release(...baseParams(m), ...loraParams(m));
}

/**
 * Logits of the three label tokens only, for hidden rows [N, dim] → [N, 3]: the model's label head
 * (untieLabels) when it has one, else the LM head restricted to the label tokens' rows (equal to
 * those three columns of the full-vocabulary logits, without computing the other V − 3).
 */
export function labelLogits(m: Llama, rows: Tensor, labelIds: readonly [number, number, number], precision: Precision = 'f32'): Tensor {
  if (m.labelHead) {
    const own = m.config.labelHead!;
    if (own.some((t, i) => t !== labelIds[i])) throw new Error(`labelLogits: the model's label head answers with tokens ${own.join(', ')}, not ${labelIds.join(', ')}`);
    return denseT(rows, m.labelHead, precision);
  }
  const head = m.lmHead ?? m.embed;
  const ids = tensor([...labelIds], [3], { dtype: 'i32', backend: head.backend });
  const w3 = gatherRows(head, ids, labelIds); // [3, dim]
  return denseT(rows, w3, precision);
}
