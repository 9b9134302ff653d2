// The conversion ranker (section 3.3): an auxiliary task of the CSRM LLM that estimates whether a
// product is bought under a query. It learns from the SOURCE market's behaviour logs as generation
// with its own short prompt, "Will buy? query: … title: … answer:", whose answer token is the label
// token "2" (bought) or "0" (shown, not bought); the relevance machinery (runSft, three-token CE of
// eq. 2–3 with hard labels, LoRA on the base model) trains it unchanged. Its CVR for a pair is
// P("2") / (P("0") + P("2")): "1" is never a target, so it is left out of the ratio.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manualSeed } from '../../engine/index.ts';
import { rng } from '../../engine/random.ts';
import { paperLora } from '../../models/llama-config.ts';
import { addLora, type Llama } from '../../models/llama.ts';
import type { BehaviourRecord } from '../data/schema.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import type { RelevanceSeq } from '../train/batch.ts';
import { scoreSeqs } from '../train/score.ts';
import { runSft } from '../train/sft.ts';
import { loadAdapters } from '../stages/model-io.ts';

export interface RankerOpts {
  steps: number;
  batchSize: number;
  lr: number;
  /** Not-bought pairs kept per bought pair (purchases are rare; the rest are subsampled). */
  negativesPerPositive: number;
  maxLen: number;
  seed: number;
  quiet?: boolean;
}

/** The ranker's prompt; titles are cut by tokens so the prompt fits maxLen. */
export function conversionSeq(tok: Tokenizer, query: string, title: string, maxLen: number, bought: boolean): RelevanceSeq {
  const q = tok.encode(`Will buy? query: ${query}`);
  const a = tok.encode(' answer:');
  const room = maxLen - 1 - q.length - a.length - 4;
  if (room < 1) throw new Error(`conversion ranker: query "${query}" is too long for ${maxLen} tokens`);
  const t = tok.encode(` title: ${title}`).slice(0, room);
  return { kind: 'relevance', ids: [tok.bos, ...q, ...t, ...a], hard: bought ? 2 : 0, soft: null };
}

/** Training pairs from behaviour logs: every bought pair and a seeded sample of shown-not-bought ones. */
export function rankerExamples(logs: readonly BehaviourRecord[], negativesPerPositive: number, seed: number): { rec: BehaviourRecord; bought: boolean }[] {
  const pos = logs.filter((b) => b.purchases > 0);
  const neg = logs.filter((b) => b.purchases === 0 && b.impressions > 0);
  if (pos.length === 0) throw new Error('conversion ranker: the behaviour logs have no purchases to learn from');
  const r = rng(seed ^ 0xc0de);
  for (let i = neg.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [neg[i], neg[j]] = [neg[j]!, neg[i]!];
  }
  const keep = neg.slice(0, Math.round(pos.length * negativesPerPositive));
  return [...pos.map((rec) => ({ rec, bought: true })), ...keep.map((rec) => ({ rec, bought: false }))];
}

/**
 * Trains (or resumes / reloads from `dir`) the ranker's LoRA adapters on `model` (a freshly loaded
 * base model) from the source logs; the model keeps the adapters for scoring.
 */
export async function trainRanker(
  model: Llama, tok: Tokenizer, logs: readonly BehaviourRecord[], titleOf: (id: string) => string | undefined, dir: string, o: RankerOpts,
): Promise<{ examples: number; positives: number; seconds: number }> {
  const ex = rankerExamples(logs, o.negativesPerPositive, o.seed).filter((e) => titleOf(e.rec.product_id) !== undefined);
  const last = join(dir, 'last.ckpt');
  const t0 = performance.now();
  if (existsSync(join(dir, 'done'))) {
    await loadAdapters(model, last);
  } else {
    manualSeed(o.seed);
    const lora = paperLora(model.config.dim);
    addLora(model, lora, o.seed);
    const relevance = ex.map((e) => conversionSeq(tok, e.rec.query, titleOf(e.rec.product_id)!, o.maxLen, e.bought));
    await runSft({
      model, labelIds: tok.labelTokenIds, padId: tok.pad, relevance, translation: [], dev: [], dir, label: 'conversion ranker', quiet: o.quiet,
      cfg: { steps: o.steps, batchSize: o.batchSize, lr: o.lr, warmup: Math.min(20, Math.floor(o.steps / 10)), weightDecay: 0.01, clip: 1, alpha: 1, mtRatio: 0, lmWeight: 0, evalEvery: o.steps, maxLen: o.maxLen, seed: o.seed, groupBatches: 1 },
    });
    writeFileSync(join(dir, 'done'), '');
  }
  return { examples: ex.length, positives: ex.filter((e) => e.bought).length, seconds: (performance.now() - t0) / 1000 };
}

/** CVR = P("2") / (P("0") + P("2")) of each (query, title) pair. */
export async function predictCvr(model: Llama, tok: Tokenizer, pairs: readonly { query: string; title: string }[], maxLen: number): Promise<number[]> {
  if (pairs.length === 0) return [];
  const seqs = pairs.map((p) => conversionSeq(tok, p.query, p.title, maxLen, false));
  const probs = await scoreSeqs(model, seqs, tok.labelTokenIds, tok.pad, maxLen);
  return probs.map((p) => p[2] / Math.max(1e-12, p[0] + p[2]));
}
