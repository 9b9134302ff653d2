// What travels through the queue. A job is one shard of a long embarrassingly parallel pass: token
// ids in, float32 rows out. The coordinator tokenizes (so a worker needs no tokenizer, prompt code or
// data folder, only the checkpoints the job names, which it checks by SHA-256) and the worker
// returns the rows as base64; the coordinator keeps them in a shard file. Shards are whole multiples
// of the batch the single-process pass uses, so every batch, and so every float, is the same.
import { createHash } from 'node:crypto';

export const QUEUE_NAME = 'csrm-shards';

export interface CheckpointRef {
  path: string;
  sha256: string;
}

/** Relevance scoring (soft labels, KD labels): ⟨p_irr, p_sub, p_exact⟩ per sequence. */
export interface ScoreJob {
  kind: 'score';
  run: string;
  shard: number;
  base: CheckpointRef;
  adapters: CheckpointRef;
  maxLen: number;
  /** Sequences per scoreSeqs call: the single-process pass's chunk. */
  chunk: number;
  labelIds: [number, number, number];
  pad: number;
  seqs: number[][];
}

/** Bi-encoder embedding (the EBR catalogue encode): one row of `dim` floats per text. */
export interface EmbedJob {
  kind: 'embed';
  run: string;
  shard: number;
  encoder: CheckpointRef;
  tower: 'query' | 'product';
  /** Texts per encode call: encodeAllHost's batch. */
  batch: number;
  texts: number[][];
}

export type ShardJob = ScoreJob | EmbedJob;

export interface ShardResult {
  worker: string;
  items: number;
  seconds: number;
  /** items × width float32, little-endian, base64. */
  rows: string;
}

export function sha256Hex(s: string | Uint8Array): string {
  return createHash('sha256').update(s).digest('hex');
}

/** Shard i covers items [i·size, min(n, (i+1)·size)). */
export function shardRange(n: number, size: number, i: number): { start: number; end: number } {
  return { start: i * size, end: Math.min(n, (i + 1) * size) };
}

export function shardCount(n: number, size: number): number {
  return Math.ceil(n / size);
}

/** A shard size the single-process pass's batches tile exactly (else the floats would differ). */
export function checkShardSize(what: string, size: number, batch: number): void {
  if (!Number.isInteger(size) || size < 1) throw new Error(`${what}: shard size ${size} must be a whole number ≥ 1`);
  if (!Number.isInteger(batch) || batch < 1) throw new Error(`${what}: batch ${batch} must be a whole number ≥ 1`);
  if (size % batch !== 0)
    throw new Error(`${what}: shard size ${size} is not a multiple of the batch ${batch}; shards must hold whole batches so the result is byte-identical to one process`);
}

export const encodeRows = (rows: Float32Array): string => Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength).toString('base64');

export function decodeRows(b64: string, items: number, width: number, what: string): Float32Array {
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.byteLength !== items * width * 4) throw new Error(`${what}: ${bytes.byteLength} bytes of rows, expected ${items} × ${width} float32`);
  const out = new Float32Array(items * width);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
