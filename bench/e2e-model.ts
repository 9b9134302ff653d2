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

/** One matmul of a step as the engine calls it (engine/ops/matmul.ts, linear = x·Wᵀ with W [out, in]). */
export interface StepMatmul {
  /** e.g. 'fwd q 64→64', 'dX gate/up 64→176', 'dW LM head 64→3000'. */
  label: string;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  /** How many times one step runs it (per layer × layers; k and v, gate and up share a shape). */
  count: number;
}

/** A head over some hidden rows: the LM head (cols = V) or the label head (cols = 3). */
export interface HeadRows {
  name: string;
  rows: number;
  cols: number;
}

/**
 * The matmuls of a forward (and, when training, backward) of the model: every projection over `rows`
 * token rows and each head over its rows. Forward x·Wᵀ is NT [rows, out, in]; backward adds the
 * input gradient g·W (NN [rows, in, out]) and the weight gradient gᵀ·x (TN [out, in, rows]).
 */
export function modelMatmuls(c: LlamaConfig, rows: number, heads: readonly HeadRows[], training: boolean): StepMatmul[] {
  const q = c.nHeads * headDim(c);
  const kv = c.nKvHeads * headDim(c);
  const L = c.nLayers;
  const lin: [string, number, number, number, number][] = [
    ['q', q, c.dim, rows, L], ['k/v', kv, c.dim, rows, 2 * L], ['o', c.dim, q, rows, L],
    ['gate/up', c.ffnDim, c.dim, rows, 2 * L], ['down', c.dim, c.ffnDim, rows, L],
    ...heads.map((h): [string, number, number, number, number] => [h.name, h.cols, c.dim, h.rows, 1]),
  ];
  if (c.lora) {
    const r = c.lora.r;
    lin.push(['LoRA A q/k/v', r, c.dim, rows, 3 * L], ['LoRA B q', q, r, rows, L], ['LoRA B k/v', kv, r, rows, 2 * L]);
  }
  const out: StepMatmul[] = [];
  for (const [name, o, i, r, count] of lin) {
    const what = `${name} ${i}→${o}`;
    out.push({ label: `fwd ${what}`, M: r, N: o, K: i, transA: false, transB: true, count });
    if (training) {
      out.push({ label: `dX ${what}`, M: r, N: i, K: o, transA: false, transB: false, count });
      out.push({ label: `dW ${what}`, M: o, N: i, K: r, transA: true, transB: false, count });
    }
  }
  return out;
}

/** The problems of modelMatmuls with one head, for autotuning (transposes do not change the bucket). */
export function modelMatmulDims(c: LlamaConfig, rows: number, headRows: number, headCols: number, training: boolean): Mm[] {
  return modelMatmuls(c, rows, [{ name: 'head', rows: headRows, cols: headCols }], training).map(({ M, N, K }) => ({ batch: 1, M, N, K }));
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
