// Records → token sequences for the model: relevance prompts (ending at the answer slot),
// translation prompts + targets, and plain text for pretraining.
import type { RelevanceRecord, TranslationPair } from '../data/schema.ts';
import { buildRelevancePrompt } from '../prompt/relevance-prompt.ts';
import { buildTranslationPrompt } from '../prompt/translation-prompt.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import type { LmSeq, RelevanceSeq, TranslationSeq } from '../train/batch.ts';

export type Soft = [number, number, number];

/**
 * Prompt ids by tokenizer, then by maxLen and the fields the prompt shows. A run encodes the same
 * records in every stage (train, dev and test sets, Stage 2's repeated target records, the labelling
 * passes), and fitting a prompt under maxLen calls the tokenizer several times: ≈ 140 µs a record,
 * 5 s of a Stage-2 run's set-up before (34,040 stream items). The arrays are frozen: they are shared.
 */
const promptIds = new WeakMap<Tokenizer, Map<string, readonly number[]>>();
const PROMPT_CACHE = 200_000;

function relevanceIds(tok: Tokenizer, r: RelevanceRecord, maxLen: number): readonly number[] {
  let byKey = promptIds.get(tok);
  if (!byKey) promptIds.set(tok, (byKey = new Map()));
  const key = JSON.stringify([maxLen, r.query, r.query_brand, r.product_title, r.product_brand, r.product_category, r.product_description, r.rqa]);
  const known = byKey.get(key);
  if (known) return known;
  // +1 for BOS; the answer token is predicted from the last prompt position and costs no input slot
  const p = buildRelevancePrompt(r, { maxTokens: maxLen - 1, count: (s) => tok.count(s) });
  if (p.overLimit) throw new Error(`prompt for query "${r.query}" / product ${r.product_id} exceeds ${maxLen} tokens even after cutting`);
  const ids = Object.freeze([tok.bos, ...tok.encode(p.prompt)]);
  if (byKey.size >= PROMPT_CACHE) byKey.clear();
  byKey.set(key, ids);
  return ids;
}

export function encodeRelevance(tok: Tokenizer, r: RelevanceRecord, maxLen: number, soft: Soft | null = null): RelevanceSeq {
  return { kind: 'relevance', ids: relevanceIds(tok, r, maxLen) as number[], hard: r.label, soft };
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
