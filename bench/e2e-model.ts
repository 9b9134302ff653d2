// Shared by the end-to-end rows (bench/train-step.ts, bench/label-throughput.ts): model FLOPs by the
// MFU convention, the bytes a step must hold, and the float64 twin of a batch for the reference.
import { savedTensors, toBackend, type Tensor } from '../engine/index.ts';
import { headDim, type LlamaConfig } from '../models/llama-config.ts';
import type { Batch } from '../models/llama.ts';
import { buildBatch, type Seq } from '../pipeline/train/batch.ts';

/** Weights of one decoder layer that multiply activations (q, k, v, o, gate, up, down); norms excluded. */
export function layerMatmulParams(c: LlamaConfig): number {
  const q = c.nHeads * headDim(c);
  const kv = c.nKvHeads * headDim(c);
  return c.dim * q + 2 * c.dim * kv + q * c.dim + 3 * c.dim * c.ffnDim;
}

/**
 * Attention FLOPs of one forward over `seqs` sequences of length T, all layers: QKᵀ and P·V are
 * 2·T²·dim each per layer (the full T² square, as the MFU convention of PaLM App. B counts it,
 * although the causal kernel skips the masked half).
 */
export function attentionFwdFlops(c: LlamaConfig, seqs: number, T: number): number {
  return 4 * c.nLayers * seqs * T * T * c.dim;
}

type Mm = { batch: number; M: number; N: number; K: number };

/**
 * The matmul problems a forward (and, when training, backward) of the model runs, for autotuning:
 * every projection over `rows` token rows and the LM head over `headRows` rows (V columns, or 3 for
 * the label head); backward adds the input gradient (N ↔ K) and the weight gradient (K = rows).
 */
export function modelMatmulDims(c: LlamaConfig, rows: number, headRows: number, headCols: number, training: boolean): Mm[] {
  const q = c.nHeads * headDim(c);
  const kv = c.nKvHeads * headDim(c);
  const lin: [number, number, number][] = [
    [q, c.dim, rows], [kv, c.dim, rows], [c.dim, q, rows], [c.ffnDim, c.dim, rows], [c.dim, c.ffnDim, rows], [headCols, c.dim, headRows],
  ];
  if (c.lora) for (const [o, i] of [[q, c.dim], [kv, c.dim]] as const) lin.push([c.lora.r, i, rows], [o, c.lora.r, rows]);
  const out: Mm[] = [];
  for (const [o, i, r] of lin) {
    out.push({ batch: 1, M: r, N: o, K: i });
    if (training) out.push({ batch: 1, M: r, N: i, K: o }, { batch: 1, M: o, N: i, K: r });
  }
  return out;
}

/** Exact bytes of a set of tensors, each storage once (reshape views share theirs). */
export function storageBytes(ts: Iterable<Tensor>): number {
  const seen = new Map<unknown, number>();
  for (const t of ts) {
    const key = t.gpu ?? t.cpu ?? t;
    seen.set(key, Math.max(seen.get(key) ?? 0, t.size * 4));
  }
  let n = 0;
  for (const b of seen.values()) n += b;
  return n;
}

/** Bytes the backward of `loss` keeps alive: the tape's saved tensors that are not parameters. */
export function activationBytes(loss: Tensor, params: readonly Tensor[]): number {
  const p = new Set(params);
  return storageBytes(savedTensors(loss).filter((t) => !p.has(t)));
}

/** buildBatch's batch on the float64 backend, with the same padding, positions and loss rows. */
export async function cpuBatch(seqs: Seq[], padId: number, maxLen: number): Promise<{ batch: Batch; lmIdx: number[]; lmTargets: number[]; answerIdx: number[] }> {
  const bb = buildBatch(seqs, padId, maxLen);
  try {
    const b = bb.batch;
    const batch: Batch = {
      ids: await toBackend(b.ids, 'cpu'),
      positions: await toBackend(b.positions, 'cpu'),
      lengths: await toBackend(b.lengths, 'cpu'),
      B: b.B,
      T: b.T,
    };
    return { batch, lmIdx: bb.lmIdx, lmTargets: bb.lmTargets, answerIdx: bb.answerIdx };
  } finally {
    bb.dispose();
  }
}
