// Batched inference: the three label-token probabilities of relevance samples (the scoring API used by
// dev evaluation, testing and self-distillation labelling), and last-hidden representations (eq. 6).
import { noGrad, read, scopeAsync, softmax } from '../../engine/index.ts';
import { forwardRows, labelLogits, type Llama } from '../../models/llama.ts';
import { buildBatch, type RelevanceSeq } from './batch.ts';

export interface ScoreOpts {
  batchSize?: number;
  onBatch?: (done: number, total: number) => void;
}

/** ⟨p_irrelevant, p_substitute, p_exact⟩ for each sample (softmax over the three label logits only). */
export async function scoreSeqs(
  m: Llama,
  seqs: RelevanceSeq[],
  labelIds: readonly [number, number, number],
  padId: number,
  maxLen: number,
  o: ScoreOpts = {},
): Promise<[number, number, number][]> {
  // 256 rows a batch: the same probabilities as 64 (each row's products do not depend on the others';
  // max |Δp| = 0 over the demo's 4,000 test samples) in ≈ 80% of the time (2026-12-02)
  const bs = o.batchSize ?? 256;
  const out: [number, number, number][] = [];
  // sort by length so padding is small; restore the order at the end
  const order = seqs.map((_, i) => i).sort((a, b) => seqs[a]!.ids.length - seqs[b]!.ids.length);
  const res = new Array<[number, number, number]>(seqs.length);
  for (let s = 0; s < order.length; s += bs) {
    const idx = order.slice(s, s + bs);
    const p = await scopeAsync(async () =>
      read(
        noGrad(() => {
          const bb = buildBatch(idx.map((i) => seqs[i]!), padId, maxLen);
          return softmax(labelLogits(m, forwardRows(m, bb.batch, bb.answerIdx, { training: false }), labelIds));
        }),
      ),
    );
    idx.forEach((i, j) => (res[i] = [p[3 * j]!, p[3 * j + 1]!, p[3 * j + 2]!]));
    o.onBatch?.(Math.min(s + bs, order.length), order.length);
  }
  out.push(...res);
  return out;
}

/** Final-layer hidden state at the last prompt token of each sample (the representation of eq. 6). */
export async function lastHidden(m: Llama, seqs: RelevanceSeq[], padId: number, maxLen: number, batchSize = 64): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const D = m.config.dim;
  for (let s = 0; s < seqs.length; s += batchSize) {
    const chunk = seqs.slice(s, s + batchSize);
    const h = await scopeAsync(async () =>
      read(
        noGrad(() => {
          const bb = buildBatch(chunk, padId, maxLen);
          return forwardRows(m, bb.batch, bb.answerIdx, { training: false });
        }),
      ),
    );
    for (let i = 0; i < chunk.length; i++) out.push(Float32Array.from(h.subarray(i * D, (i + 1) * D)));
  }
  return out;
}
