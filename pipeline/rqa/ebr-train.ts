// Distilling the EBR bi-encoder (section 3.3, eq. 1): each step takes B query-product pairs with
// their CVR (the LLM conversion ranker's estimate on BM25 pseudo pairs, or an observed conversion
// rate from behaviour logs), N products sampled from the catalogue as extra negatives, and
// minimises ebrDistill: CVR-weighted contrastive loss over the in-batch + sampled negatives plus the
// MSE between CVR and the inner product. A batch holds each query at most once, so no in-batch
// "negative" is another positive of the same query text.
import { adamw, backward, clipGradNorm, item, scopeAsync, tensor, zeroGrad } from '../../engine/index.ts';
import { ebrDistill } from '../../engine/losses/index.ts';
import { rng } from '../../engine/random.ts';
import { biEncoderParams, encodeTexts, type BiEncoder } from '../../models/bi-encoder.ts';
import { progress } from '../train/progress.ts';

export interface EbrPair {
  query: readonly number[]; // query token ids
  product: readonly number[]; // product text token ids
  cvr: number; // in [0, 1]
}

export interface EbrTrainOpts {
  steps: number;
  batchSize: number;
  /** Sampled catalogue negatives per step (the N of eq. 1's candidates beyond the batch). */
  negatives: number;
  lr: number;
  temperature: number;
  mseWeight: number;
  seed: number;
  label?: string;
  quiet?: boolean;
}

export interface EbrTrainResult {
  losses: { step: number; loss: number }[];
  seconds: number;
  pairsPerSec: number;
}

/** Query-distinct batches: a pair whose query text is already in the batch waits for a later batch. */
export function sampleBatch(pairs: readonly EbrPair[], queryKey: readonly string[], B: number, r: ReturnType<typeof rng>): number[] {
  const out: number[] = [];
  const seen = new Set<string>();
  for (let tries = 0; out.length < B && tries < 8 * B; tries++) {
    const i = r.int(pairs.length);
    if (seen.has(queryKey[i]!)) continue;
    seen.add(queryKey[i]!);
    out.push(i);
  }
  return out;
}

/** One eq.-1 loss of the model on given pair indices and negative products (a scalar tensor). */
export function ebrLoss(m: BiEncoder, pairs: readonly EbrPair[], idx: readonly number[], negatives: readonly (readonly number[])[], o: Pick<EbrTrainOpts, 'temperature' | 'mseWeight'>) {
  const q = encodeTexts(m, 'query', idx.map((i) => pairs[i]!.query));
  const p = encodeTexts(m, 'product', [...idx.map((i) => pairs[i]!.product), ...negatives]);
  const cvr = tensor(idx.map((i) => pairs[i]!.cvr), [idx.length]);
  return ebrDistill(q, p, cvr, { temperature: o.temperature, mseWeight: o.mseWeight });
}

export async function trainEbr(m: BiEncoder, pairs: readonly EbrPair[], catalogue: readonly (readonly number[])[], o: EbrTrainOpts): Promise<EbrTrainResult> {
  if (pairs.length === 0) throw new Error(`${o.label ?? 'trainEbr'}: no training pairs`);
  for (const [i, p] of pairs.entries()) {
    if (!(p.cvr >= 0 && p.cvr <= 1)) throw new Error(`${o.label ?? 'trainEbr'}: pair ${i} has CVR ${p.cvr} outside [0, 1]`);
  }
  const params = biEncoderParams(m);
  const opt = adamw(params, { lr: o.lr, weightDecay: 0.01 });
  const r = rng(o.seed);
  const keys = pairs.map((p) => p.query.join(','));
  const bar = progress(o.label ?? 'ebr', o.steps, { quiet: o.quiet });
  const losses: EbrTrainResult['losses'] = [];
  const t0 = performance.now();
  let seen = 0;
  for (let step = 0; step < o.steps; step++) {
    const idx = sampleBatch(pairs, keys, o.batchSize, r);
    const negs = Array.from({ length: Math.min(o.negatives, catalogue.length) }, () => catalogue[r.int(catalogue.length)]!);
    const want = step % 10 === 0 || step === o.steps - 1;
    const lr = o.lr * (0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * step) / Math.max(1, o.steps))));
    const v = await scopeAsync(async () => {
      zeroGrad(params);
      const loss = ebrLoss(m, pairs, idx, negs, o);
      backward(loss);
      clipGradNorm(params, 1);
      opt.step(lr);
      return want ? await item(loss) : null;
    });
    seen += idx.length;
    if (v !== null) {
      if (!Number.isFinite(v)) throw new Error(`${o.label ?? 'trainEbr'}: loss became ${v} at step ${step}`);
      losses.push({ step, loss: v });
    }
    bar.tick(step + 1, { loss: v ?? undefined, items: idx.length });
  }
  opt.dispose();
  zeroGrad(params);
  const seconds = (performance.now() - t0) / 1000;
  bar.done(`final loss ${losses.at(-1)?.loss.toFixed(4)}`);
  return { losses, seconds, pairsPerSec: seen / seconds };
}
