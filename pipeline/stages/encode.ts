// Records → token sequences for the model: relevance prompts (ending at the answer slot),
// translation prompts + targets, and plain text for pretraining.
import type { RelevanceRecord, TranslationPair } from '../data/schema.ts';
import { buildRelevancePrompt } from '../prompt/relevance-prompt.ts';
import { buildTranslationPrompt } from '../prompt/translation-prompt.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import type { LmSeq, RelevanceSeq, TranslationSeq } from '../train/batch.ts';

export type Soft = [number, number, number];

export function encodeRelevance(tok: Tokenizer, r: RelevanceRecord, maxLen: number, soft: Soft | null = null): RelevanceSeq {
  // +1 for BOS; the answer token is predicted from the last prompt position and costs no input slot
  const p = buildRelevancePrompt(r, { maxTokens: maxLen - 1, count: (s) => tok.count(s) });
  if (p.overLimit) throw new Error(`prompt for query "${r.query}" / product ${r.product_id} exceeds ${maxLen} tokens even after cutting`);
  return { kind: 'relevance', ids: [tok.bos, ...tok.encode(p.prompt)], hard: r.label, soft };
}

export function encodeTranslation(tok: Tokenizer, t: TranslationPair, maxLen: number): TranslationSeq | null {
  const p = buildTranslationPrompt(t);
  const prompt = [tok.bos, ...tok.encode(p.prompt)];
  const ids = [...prompt, ...tok.encode(` ${p.answer}`), tok.eos];
  if (ids.length > maxLen) return null; // an over-long pair is skipped and counted by the caller
  return { kind: 'translation', ids, promptLen: prompt.length };
}

/** Packs texts (each followed by EOS) into fixed-length LM sequences for pretraining. */
export function packCorpus(tok: Tokenizer, texts: string[], seqLen: number): LmSeq[] {
  const stream: number[] = [];
  for (const t of texts) stream.push(...tok.encode(t), tok.eos);
  const out: LmSeq[] = [];
  for (let i = 0; i + seqLen <= stream.length; i += seqLen) out.push({ kind: 'lm', ids: [tok.bos, ...stream.slice(i, i + seqLen - 1)] });
  return out;
}
