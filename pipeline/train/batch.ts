// Turning tokenised samples into one right-padded batch: ids, positions, valid lengths, the answer
// position of every relevance sample and the target positions of every translation sample.
import { tensor, type Tensor } from '../../engine/index.ts';
import type { Batch } from '../../models/llama.ts';

/** A relevance sample: the prompt ends at the answer slot; the model's next token is the label. */
export interface RelevanceSeq {
  kind: 'relevance';
  ids: number[];
  hard: number; // 0 irrelevant, 1 substitute, 2 exact
  soft: [number, number, number] | null; // teacher triple ⟨p_irr, p_sub, p_exact⟩ from self-distillation
}

/** A translation sample: prompt + target + EOS; only target tokens (and EOS) carry loss. */
export interface TranslationSeq {
  kind: 'translation';
  ids: number[]; // prompt followed by target and EOS
  promptLen: number;
}

/** A plain LM sample (pretraining): every next token carries loss. */
export interface LmSeq {
  kind: 'lm';
  ids: number[];
}

export type Seq = RelevanceSeq | TranslationSeq | LmSeq;

export interface BuiltBatch {
  batch: Batch;
  /** Flat (b·T + t) index of the last prompt token of each relevance sample, in order. */
  answerIdx: number[];
  hard: number[];
  soft: ([number, number, number] | null)[];
  /** Flat positions whose next token is a loss-carrying LM target, and those targets. */
  lmIdx: number[];
  lmTargets: number[];
  tokens: number; // real (non-pad) tokens in the batch
  dispose(): void;
}

export function buildBatch(seqs: Seq[], padId: number, maxLen: number): BuiltBatch {
  if (seqs.length === 0) throw new Error('buildBatch: empty batch');
  for (const [i, s] of seqs.entries()) {
    if (s.ids.length === 0) throw new Error(`buildBatch: sample ${i} has no tokens`);
    if (s.ids.length > maxLen) throw new Error(`buildBatch: sample ${i} has ${s.ids.length} tokens > max ${maxLen} (truncate in the prompt builder)`);
  }
  const B = seqs.length;
  const T = Math.max(...seqs.map((s) => s.ids.length));
  const ids = new Int32Array(B * T).fill(padId);
  const pos = new Int32Array(B * T);
  const lens = new Int32Array(B);
  const out: Omit<BuiltBatch, 'batch' | 'dispose'> = { answerIdx: [], hard: [], soft: [], lmIdx: [], lmTargets: [], tokens: 0 };
  seqs.forEach((s, b) => {
    const n = s.ids.length;
    lens[b] = n;
    out.tokens += n;
    for (let t = 0; t < T; t++) {
      ids[b * T + t] = t < n ? s.ids[t]! : padId;
      pos[b * T + t] = t < n ? t : n - 1; // padded positions repeat the last (masked anyway)
    }
    if (s.kind === 'relevance') {
      out.answerIdx.push(b * T + n - 1);
      out.hard.push(s.hard);
      out.soft.push(s.soft);
    } else {
      const start = s.kind === 'translation' ? s.promptLen - 1 : 0;
      for (let t = start; t < n - 1; t++) {
        out.lmIdx.push(b * T + t);
        out.lmTargets.push(s.ids[t + 1]!);
      }
    }
  });
  const batch: Batch = {
    ids: tensor(ids, [B, T], { dtype: 'i32' }),
    hostIds: ids,
    positions: tensor(pos, [B, T], { dtype: 'i32' }),
    lengths: tensor(lens, [B], { dtype: 'i32' }),
    B,
    T,
  };
  return {
    ...out,
    batch,
    dispose() {
      batch.ids.dispose();
      batch.positions.dispose();
      batch.lengths.dispose();
    },
  };
}

export type { Tensor };
