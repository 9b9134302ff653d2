// What a `csrm worker` does with one shard: loads the checkpoints the job names (once per model,
// after checking their SHA-256 against the job's, so a worker never answers with another model),
// checks the inputs, and computes the rows in the single-process pass's own batches.
import { loadCheckpoint, loadTensorsInto } from '../../engine/index.ts';
import { checkpointDigest } from '../../engine/checkpoint.ts';
import { biEncoderTensors, disposeBiEncoder, encodeAllHost, initBiEncoder, type BiEncoder, type BiEncoderConfig } from '../../models/bi-encoder.ts';
import { disposeLlama, type Llama } from '../../models/llama.ts';
import { loadAdapters, loadBase } from '../stages/model-io.ts';
import { scoreSeqs } from '../train/score.ts';
import type { CheckpointRef, EmbedJob, ScoreJob } from './shard-jobs.ts';

type Loaded = { key: string; llama?: Llama; encoder?: BiEncoder };
let loaded: Loaded | null = null;

export function unloadShardModel(): void {
  if (loaded?.llama) disposeLlama(loaded.llama);
  if (loaded?.encoder) disposeBiEncoder(loaded.encoder);
  loaded = null;
}

async function checkRef(ref: CheckpointRef, what: string): Promise<void> {
  const have = await checkpointDigest(ref.path);
  if (have !== ref.sha256)
    throw new Error(`${what} ${ref.path} on this worker has sha256 ${have.slice(0, 12)}…, the job was made with ${ref.sha256.slice(0, 12)}…: refusing to answer with another model (give every worker the same checkpoint files)`);
}

async function llamaFor(job: ScoreJob): Promise<Llama> {
  const key = `llama:${job.base.sha256}:${job.adapters.sha256}`;
  if (loaded?.key === key) return loaded.llama!;
  unloadShardModel();
  await checkRef(job.base, 'base model');
  await checkRef(job.adapters, 'adapters');
  const base = await loadBase(job.base.path);
  await loadAdapters(base.model, job.adapters.path, base);
  loaded = { key, llama: base.model };
  return base.model;
}

async function encoderFor(job: EmbedJob): Promise<BiEncoder> {
  const key = `encoder:${job.encoder.sha256}`;
  if (loaded?.key === key) return loaded.encoder!;
  unloadShardModel();
  await checkRef(job.encoder, 'bi-encoder');
  const saved = await loadCheckpoint(job.encoder.path);
  const enc = initBiEncoder(saved.config as BiEncoderConfig, 0);
  loadTensorsInto(biEncoderTensors(enc), saved.tensors);
  loaded = { key, encoder: enc };
  return enc;
}

/** Token ids must index the vocabulary; a bad one names its place in the shard. */
function checkIds(seqs: number[][], vocab: number, maxLen: number, what: string): void {
  seqs.forEach((ids, j) => {
    if (!Array.isArray(ids) || ids.length === 0) throw new Error(`${what} item ${j}: no tokens`);
    if (ids.length > maxLen) throw new Error(`${what} item ${j}: ${ids.length} tokens, more than maxLen ${maxLen}`);
    const bad = ids.findIndex((t) => !Number.isInteger(t) || t < 0 || t >= vocab);
    if (bad >= 0) throw new Error(`${what} item ${j}: token ${bad} is ${JSON.stringify(ids[bad])}, outside the model's vocabulary of ${vocab}`);
  });
}

export interface ShardHooks {
  /** Called after each batch with the items done; returns true when the worker must give the shard back. */
  after(done: number): Promise<boolean>;
}

/** Soft labels of a shard: 3 floats per sequence, computed in `chunk`-sized scoreSeqs calls. */
export async function scoreShard(job: ScoreJob, hooks: ShardHooks): Promise<Float32Array | null> {
  const m = await llamaFor(job);
  const what = `shard ${job.shard}`;
  checkIds(job.seqs, m.config.vocabSize, job.maxLen, what);
  const out = new Float32Array(job.seqs.length * 3);
  for (let s = 0; s < job.seqs.length; s += job.chunk) {
    const part = job.seqs.slice(s, s + job.chunk);
    const p = await scoreSeqs(m, part.map((ids) => ({ kind: 'relevance' as const, ids, hard: 0, soft: null })), job.labelIds, job.pad, job.maxLen);
    p.forEach((t, j) => {
      if (!t.every((v) => Number.isFinite(v))) throw new Error(`${what} item ${s + j}: non-finite probabilities ${JSON.stringify(t)}`);
      out.set(t, 3 * (s + j));
    });
    if (await hooks.after(s + part.length)) return null;
  }
  return out;
}

/** Embeddings of a shard: `dim` floats per text, computed in `batch`-sized encode calls. */
export async function embedShard(job: EmbedJob, hooks: ShardHooks): Promise<Float32Array | null> {
  const enc = await encoderFor(job);
  const what = `shard ${job.shard}`;
  checkIds(job.texts, enc.config.vocabSize, Number.MAX_SAFE_INTEGER, what);
  const D = enc.config.dim;
  const out = new Float32Array(job.texts.length * D);
  for (let s = 0; s < job.texts.length; s += job.batch) {
    const part = job.texts.slice(s, s + job.batch);
    const v = await encodeAllHost(enc, job.tower, part, job.batch);
    for (let j = 0; j < v.length; j++) if (!Number.isFinite(v[j]!)) throw new Error(`${what} item ${s + Math.floor(j / D)}: non-finite embedding`);
    out.set(v, s * D);
    if (await hooks.after(s + part.length)) return null;
  }
  return out;
}
