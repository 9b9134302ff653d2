// `csrm pretrain`: the project's own small multilingual decoder, trained from a seed on the
// synthetic market's bilingual text (catalogue titles and descriptions of both markets). It stands
// in for the paper's open-source multilingual foundation model (Orion-14B).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed } from '../../engine/index.ts';
import { makeConfig } from '../../models/llama-config.ts';
import { disposeLlama, initLlama } from '../../models/llama.ts';
import { loadTokenizer } from '../tokenizer/tokenizer.ts';
import { packCorpus } from './encode.ts';
import { pretrainTexts } from './pretrain-corpus.ts';
import { loadMarketData } from './market-data.ts';
import { saveBase } from './model-io.ts';
import { runSft, type SftConfig, type SftResult } from '../train/sft.ts';

export interface PretrainOpts {
  data: string;
  out: string; // base checkpoint path
  preset: string; // model preset (tiny, small, base, large)
  steps: number;
  batchSize: number;
  seqLen: number;
  lr: number;
  seed: number;
  workDir?: string; // where resumable state lives (default: next to out)
  quiet?: boolean;
  corpus?: string; // recipe name (default PRETRAIN_CORPUS)
}

/**
 * The default corpus recipe (pretrain-corpus.ts): listings of both markets plus parallel and
 * code-switched documents. Against 'listings-v2' (monolingual listings only) it brought the demo's
 * Stage-1 transfer gap (eq. 6) from 1.76 to 1.26, Korean F1 moving within the spread of seeds
 * (measured 2026-11-28; README, demo section).
 */
export const PRETRAIN_CORPUS = 'listings-bilingual-v1';

export async function runPretrain(o: PretrainOpts): Promise<SftResult & { params: number }> {
  manualSeed(o.seed);
  const tok = await loadTokenizer();
  const data = await loadMarketData(o.data);
  const corpusName = o.corpus ?? PRETRAIN_CORPUS;
  const corpus = packCorpus(tok, pretrainTexts(data, o.seed, corpusName), o.seqLen);
  if (corpus.length === 0) throw new Error(`pretrain: corpus of ${o.data} is empty`);
  const config = makeConfig(o.preset, tok.vocabSize, { maxSeqLen: Math.max(o.seqLen, 160) });
  const model = initLlama(config, o.seed);
  const dir = o.workDir ?? `${o.out}.work`;
  mkdirSync(dir, { recursive: true });
  const cfg: SftConfig = {
    steps: o.steps, batchSize: o.batchSize, lr: o.lr, warmup: Math.min(100, Math.floor(o.steps / 10)), weightDecay: 0.01, clip: 1,
    alpha: 1, mtRatio: 0, lmWeight: 1, evalEvery: Math.max(50, Math.floor(o.steps / 10)), maxLen: o.seqLen, seed: o.seed, groupBatches: 1,
  };
  if (!o.quiet) console.error(`pretrain: ${corpus.length} sequences of ${o.seqLen} tokens, model ${o.preset}`);
  const res = await runSft({ model, labelIds: tok.labelTokenIds, padId: tok.pad, relevance: [], translation: [], lm: corpus, dev: [], cfg, dir: join(dir), label: 'pretrain', quiet: o.quiet });
  await saveBase(o.out, model, { corpus: corpusName, corpusSequences: corpus.length, seqLen: o.seqLen, steps: o.steps, seed: o.seed, finalLoss: res.history.at(-1)?.loss });
  const params = model.layers.length;
  disposeLlama(model);
  return { ...res, params };
}
