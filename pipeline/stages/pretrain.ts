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
import { loadMarketData } from './market-data.ts';
import { saveBase } from './model-io.ts';
import { runSft, type SftConfig, type SftResult } from '../train/sft.ts';
import { rng } from '../../engine/random.ts';

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
}

/** Names the corpus recipe below; a committed base model is reused only when it was built from it. */
export const PRETRAIN_CORPUS = 'listings-v2';

/**
 * Corpus texts, deterministic order: one document per catalogue listing of both markets (title,
 * category, description). A listing stays one document because its description repeats the title's
 * brand, type and attributes: predicting those repeats is what trains the copy/match attention that
 * relevance matching later needs (a query's brand or type found again in a title).
 */
export function pretrainTexts(data: Awaited<ReturnType<typeof loadMarketData>>, seed: number): string[] {
  const texts: string[] = [];
  for (const m of [data.source, data.target]) {
    for (const c of data.catalogue[m] ?? []) {
      texts.push([c.product_title, c.product_category, c.product_description].filter(Boolean).join(' '));
    }
  }
  // shuffle so that packed sequences mix markets
  const r = rng(seed);
  for (let i = texts.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [texts[i], texts[j]] = [texts[j]!, texts[i]!];
  }
  return texts;
}

export async function runPretrain(o: PretrainOpts): Promise<SftResult & { params: number }> {
  manualSeed(o.seed);
  const tok = await loadTokenizer();
  const data = await loadMarketData(o.data);
  const corpus = packCorpus(tok, pretrainTexts(data, o.seed), o.seqLen);
  if (corpus.length === 0) throw new Error(`pretrain: corpus of ${o.data} is empty`);
  const config = makeConfig(o.preset, tok.vocabSize, { maxSeqLen: Math.max(o.seqLen, 160) });
  const model = initLlama(config, o.seed);
  const dir = o.workDir ?? `${o.out}.work`;
  mkdirSync(dir, { recursive: true });
  const cfg: SftConfig = {
    steps: o.steps, batchSize: o.batchSize, lr: o.lr, warmup: Math.min(100, Math.floor(o.steps / 10)), weightDecay: 0.01, clip: 1,
    alpha: 1, mtRatio: 0, lmWeight: 1, evalEvery: Math.max(50, Math.floor(o.steps / 10)), maxLen: o.seqLen, seed: o.seed,
  };
  if (!o.quiet) console.error(`pretrain: ${corpus.length} sequences of ${o.seqLen} tokens, model ${o.preset}`);
  const res = await runSft({ model, labelIds: tok.labelTokenIds, padId: tok.pad, relevance: [], translation: [], lm: corpus, dev: [], cfg, dir: join(dir), label: 'pretrain', quiet: o.quiet });
  await saveBase(o.out, model, { corpus: PRETRAIN_CORPUS, corpusSequences: corpus.length, seqLen: o.seqLen, steps: o.steps, seed: o.seed, finalLoss: res.history.at(-1)?.loss });
  const params = model.layers.length;
  disposeLlama(model);
  return { ...res, params };
}
