// Evaluation of a relevance model on the clean test sets: micro-F1 (eq. 5), per-class scores and the
// confusion matrix on the target market, the same on the source market for reference, and the alias
// queries' F1 on their own (where query augmentation should matter). The test set is never used
// for selection or tuning.
import type { RelevanceRecord } from '../data/schema.ts';
import { evaluate, type Evaluation } from '../eval/metrics.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { scoreSeqs } from '../train/score.ts';
import type { Llama } from '../../models/llama.ts';
import { encodeRelevance } from './encode.ts';
import type { MarketData } from './market-data.ts';
import { withRqa } from './sft-stage.ts';

export interface ModelEvaluation {
  target: Evaluation;
  targetAlias: Evaluation | null;
  source: Evaluation;
}

export async function predict(m: Llama, tok: Tokenizer, recs: RelevanceRecord[], maxLen: number): Promise<{ pred: number[]; probs: [number, number, number][] }> {
  const seqs = recs.map((r) => encodeRelevance(tok, r, maxLen));
  const probs = await scoreSeqs(m, seqs, tok.labelTokenIds, tok.pad, maxLen);
  return { probs, pred: probs.map((p) => p.indexOf(Math.max(...p))) };
}

async function evalSet(m: Llama, tok: Tokenizer, recs: RelevanceRecord[], maxLen: number): Promise<{ all: Evaluation; alias: Evaluation | null }> {
  const { pred } = await predict(m, tok, recs, maxLen);
  const truth = recs.map((r) => r.label);
  const aliasIdx = recs.map((r, i) => (r.intent === 'alias' ? i : -1)).filter((i) => i >= 0);
  return {
    all: evaluate(truth, pred),
    alias: aliasIdx.length ? evaluate(aliasIdx.map((i) => truth[i]!), aliasIdx.map((i) => pred[i]!)) : null,
  };
}

export async function evaluateModel(m: Llama, d: MarketData, tok: Tokenizer, maxLen: number, rqaDir: string | null): Promise<ModelEvaluation> {
  for (const market of [d.target, d.source]) if (d.relevance[market]!.test.length === 0) throw new Error(`${d.dir}: the ${market} test split is empty; there is nothing to evaluate`);
  const tgt = await evalSet(m, tok, await withRqa(d.relevance[d.target]!.test, rqaDir), maxLen);
  const src = await evalSet(m, tok, await withRqa(d.relevance[d.source]!.test, rqaDir), maxLen);
  return { target: tgt.all, targetAlias: tgt.alias, source: src.all };
}
