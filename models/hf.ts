// Hugging Face Llama/Qwen2-style checkpoints (config.json + model.safetensors, tensor names such as
// `model.layers.N.self_attn.q_proj.weight`) to and from the project's Llama model, so a user with
// real weights can start from them. Biased q/k/v projections (Qwen2) are refused with a clear
// error: this model has no projection biases.
import { read } from '../engine/index.ts';
import { readHfCheckpoint, writeHfCheckpoint } from '../engine/safetensors.ts';
import { loadTensorsInto } from '../engine/checkpoint.ts';
import { validateConfig, type LlamaConfig } from './llama-config.ts';
import { initLlama, namedTensors, type Llama } from './llama.ts';

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

/** Loads a Hugging Face Llama-style folder into a new model (F32/F16/BF16 weights → f32). */
export async function importHf(dir: string): Promise<Llama> {
  const { config, tensors } = await readHfCheckpoint(dir);
  const biases = Object.keys(tensors).filter((k) => /_proj\.bias$/.test(k));
  if (biases.length) throw new Error(`${dir}: projection biases (${biases.slice(0, 3).join(', ')}…) are not supported by this Llama model`);
  const m = initLlama(configFromHf(config, dir), 0);
  const host = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, { shape: t.shape, dtype: 'f32' as const, data: t.data }]));
  if (m.config.tieEmbeddings) delete host['lm_head.weight']; // some exports keep the tied copy
  loadTensorsInto(namedTensors(m, 'base'), host);
  return m;
}

/** Writes the base model as a Hugging Face folder (config.json + model.safetensors, F32). */
export async function exportHf(m: Llama, dir: string): Promise<void> {
  const out: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [k, t] of Object.entries(namedTensors(m, 'base'))) out[k] = { shape: [...t.shape], data: Float32Array.from(await read(t)) };
  await writeHfCheckpoint(dir, configToHf(m.config), out);
}
