// Hugging Face Llama/Qwen2-style checkpoints (config.json + model.safetensors, tensor names such as
// `model.layers.N.self_attn.q_proj.weight`) to and from the project's Llama model, so a user with
// real weights can start from them. Biased q/k/v projections (Qwen2) are refused with a clear
// error: this model has no projection biases.
import { read } from '../engine/index.ts';
import { readHfCheckpoint, writeHfCheckpoint } from '../engine/safetensors.ts';
import { loadTensorsInto } from '../engine/checkpoint.ts';
import { paramCounts, validateConfig, type LlamaConfig } from './llama-config.ts';
import { disposeLlama, initLlama, namedTensors, type Llama } from './llama.ts';

const num = (c: Record<string, unknown>, k: string, dir: string, dflt?: number): number => {
  const v = c[k] ?? dflt;
  if (typeof v !== 'number') throw new Error(`${dir}/config.json: "${k}" missing or not a number`);
  return v;
};

export function configFromHf(c: Record<string, unknown>, dir = '.'): LlamaConfig {
  const heads = num(c, 'num_attention_heads', dir);
  return validateConfig({
    vocabSize: num(c, 'vocab_size', dir),
    dim: num(c, 'hidden_size', dir),
    nLayers: num(c, 'num_hidden_layers', dir),
    nHeads: heads,
    nKvHeads: num(c, 'num_key_value_heads', dir, heads),
    ffnDim: num(c, 'intermediate_size', dir),
    maxSeqLen: num(c, 'max_position_embeddings', dir, 2048),
    ropeTheta: num(c, 'rope_theta', dir, 10000),
    normEps: num(c, 'rms_norm_eps', dir, 1e-6),
    tieEmbeddings: c.tie_word_embeddings === true,
    lora: null,
  });
}

export function configToHf(c: LlamaConfig): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: c.vocabSize,
    hidden_size: c.dim,
    num_hidden_layers: c.nLayers,
    num_attention_heads: c.nHeads,
    num_key_value_heads: c.nKvHeads,
    intermediate_size: c.ffnDim,
    max_position_embeddings: c.maxSeqLen,
    rope_theta: c.ropeTheta,
    rms_norm_eps: c.normEps,
    tie_word_embeddings: c.tieEmbeddings,
    hidden_act: 'silu',
    torch_dtype: 'float32',
  };
}

/** Tensors holding NaN or ±Inf, with where the first bad value is; empty when all are finite. */
export function nonFiniteTensors(tensors: Record<string, { data: Float32Array }>): { name: string; count: number; first: number; value: number }[] {
  const out: { name: string; count: number; first: number; value: number }[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    let count = 0;
    let first = -1;
    for (let i = 0; i < t.data.length; i++) {
      if (Number.isFinite(t.data[i]!)) continue;
      if (count++ === 0) first = i;
    }
    if (count) out.push({ name, count, first, value: t.data[first]! });
  }
  return out;
}

export interface ImportHfOptions {
  /** Import weights holding NaN or ±Inf instead of refusing them (they fail later, as a NaN loss). */
  allowNonFinite?: boolean;
}

/** Loads a Hugging Face Llama-style folder into a new model (F32/F16/BF16 weights → f32). */
export async function importHf(dir: string, opts: ImportHfOptions = {}): Promise<Llama> {
  const { config, tensors, sources } = await readHfCheckpoint(dir);
  const biases = Object.keys(tensors).filter((k) => /_proj\.bias$/.test(k));
  if (biases.length) throw new Error(`${dir}: projection biases (${biases.slice(0, 3).join(', ')}…) are not supported by this Llama model`);
  const cfg = configFromHf(config, dir);
  // The config decides what is allocated: bound it by the weights that exist before allocating, so
  // a wrong (or hostile) config.json fails here with its numbers, not in a typed-array constructor.
  const need = paramCounts(cfg).base;
  const have = Object.entries(tensors).reduce((s, [k, t]) => s + (cfg.tieEmbeddings && k === 'lm_head.weight' ? 0 : t.data.length), 0);
  if (need > have)
    throw new Error(`${dir}/config.json describes ${need} weights (hidden_size ${cfg.dim}, intermediate_size ${cfg.ffnDim}, ${cfg.nLayers} layers, vocab ${cfg.vocabSize}) but the safetensors hold ${have}: config and weights do not match`);
  if (!opts.allowNonFinite) {
    const bad = nonFiniteTensors(tensors);
    if (bad.length) {
      const b = bad[0]!;
      throw new Error(`${sources[b.name]}: tensor "${b.name}" has ${b.count} non-finite values (first at index ${b.first}: ${b.value})`
        + `${bad.length > 1 ? `, and ${bad.length - 1} more tensors have some` : ''}; refusing to import (--allow-non-finite imports anyway)`);
    }
  }
  const m = initLlama(cfg, 0);
  const host = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, { shape: t.shape, dtype: 'f32' as const, data: t.data }]));
  if (m.config.tieEmbeddings) delete host['lm_head.weight']; // some exports keep the tied copy
  try {
    loadTensorsInto(namedTensors(m, 'base'), host);
  } catch (e) {
    disposeLlama(m);
    throw new Error(`${dir}: ${(e as Error).message}`);
  }
  return m;
}

/** Writes the base model as a Hugging Face folder (config.json + model.safetensors, F32). */
export async function exportHf(m: Llama, dir: string): Promise<void> {
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [k, t] of Object.entries(namedTensors(m, 'base'))) out[k] = { shape: [...t.shape], data: Float32Array.from(await read(t)) };
  await writeHfCheckpoint(dir, configToHf(m.config), out);
}
