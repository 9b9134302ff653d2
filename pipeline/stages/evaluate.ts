// Evaluation of a relevance model on the clean test sets: micro-F1 (eq. 5), per-class scores and the
// confusion matrix on the target market, the same on the source market for reference, and the alias
// queries' F1 on their own (where query augmentation should matter). The test set is never used
// for selection or tuning. The target test set's per-sample predictions are kept (compactly) so
// the report can pair two stages on the same samples (eval/paired-comparison.ts).
import type { RelevanceRecord } from '../data/schema.ts';
import { evaluate, type Evaluation } from '../eval/metrics.ts';
import { samplePredictions, type SamplePredictions } from '../eval/sample-predictions.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { scoreSeqs } from '../train/score.ts';
import type { Llama } from '../../models/llama.ts';
import { encodeRelevance } from './encode.ts';
import { sampleKey, type MarketData } from './market-data.ts';
import { withRqa } from './sft-stage.ts';

export interface ModelEvaluation {
  target: Evaluation;
  targetAlias: Evaluation | null;
  source: Evaluation;
  /** Per-sample labels, predictions and queries of the target test set. */
  targetSamples: SamplePredictions;
}

/** The query a test sample belongs to, the unit of the paired bootstrap (query text where imported data has no id). */
export function queryCluster(r: RelevanceRecord): string {
  return r.query_id || `text:${r.query}`;
}

export async function predict(m: Llama, tok: Tokenizer, recs: RelevanceRecord[], maxLen: number): Promise<{ pred: number[]; probs: [number, number, number][] }> {
  const seqs = recs.map((r) => encodeRelevance(tok, r, maxLen));
  const probs = await scoreSeqs(m, seqs, tok.labelTokenIds, tok.pad, maxLen);
  return { probs, pred: probs.map((p) => p.indexOf(Math.max(...p))) };
}

async function evalSet(m: Llama, tok: Tokenizer, recs: RelevanceRecord[], maxLen: number): Promise<{ all: Evaluation; alias: Evaluation | null; samples: SamplePredictions }> {
  const { pred } = await predict(m, tok, recs, maxLen);
  const truth = recs.map((r) => r.label);
  const aliasIdx = recs.map((r, i) => (r.intent === 'alias' ? i : -1)).filter((i) => i >= 0);
  return {
    all: evaluate(truth, pred),
    alias: aliasIdx.length ? evaluate(aliasIdx.map((i) => truth[i]!), aliasIdx.map((i) => pred[i]!)) : null,
    samples: samplePredictions(recs.map(sampleKey), truth, pred, recs.map(queryCluster)),
  };
}

export async function evaluateModel(m: Llama, d: MarketData, tok: Tokenizer, maxLen: number, rqaDir: string | null): Promise<ModelEvaluation> {
  for (const market of [d.target, d.source]) if (d.relevance[market]!.test.length === 0) throw new Error(`${d.dir}: the ${market} test split is empty; there is nothing to evaluate`);
  const tgt = await evalSet(m, tok, await withRqa(d.relevance[d.target]!.test, rqaDir), maxLen);
  const src = await evalSet(m, tok, await withRqa(d.relevance[d.source]!.test, rqaDir), maxLen);
  return { target: tgt.all, targetAlias: tgt.alias, source: src.all, targetSamples: tgt.samples };
}
