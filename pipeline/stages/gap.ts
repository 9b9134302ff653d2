// The cross-lingual transfer gap of eq. 6, measured on paired test samples: the same query-product
// pair in the source language and in the target language (linked by pair_id), represented by the
// model's final hidden state at the answer slot.
import type { RelevanceRecord } from '../data/schema.ts';
import { transferGap } from '../eval/metrics.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { lastHidden } from '../train/score.ts';
import type { Llama } from '../../models/llama.ts';
import { encodeRelevance } from './encode.ts';
import type { MarketData } from './market-data.ts';

export function pairedTest(d: MarketData): [RelevanceRecord, RelevanceRecord][] {
  const tgt = new Map(d.relevance[d.target]!.test.filter((r) => r.pair_id).map((r) => [r.pair_id, r]));
  const out: [RelevanceRecord, RelevanceRecord][] = [];
  for (const s of d.relevance[d.source]!.test) {
    const t = s.pair_id ? tgt.get(s.pair_id) : undefined;
    if (t) out.push([s, t]);
  }
  return out;
}

export async function measureTransferGap(m: Llama, d: MarketData, tok: Tokenizer, maxLen: number): Promise<{ gap: number; pairs: number }> {
  const pairs = pairedTest(d);
  if (pairs.length === 0) throw new Error(`${d.dir}: no paired source/target test samples (pair_id) for eq. 6`);
  const enc = (r: RelevanceRecord) => encodeRelevance(tok, { ...r, rqa: [] }, maxLen);
  const src = await lastHidden(m, pairs.map((p) => enc(p[0])), tok.pad, maxLen);
  const tgt = await lastHidden(m, pairs.map((p) => enc(p[1])), tok.pad, maxLen);
  return { gap: transferGap(src, tgt), pairs: pairs.length };
}
