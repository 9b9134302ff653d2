// Training one binary twin tower with eq. 4: the student p̂ = σ(s·cos(q, p)) is fitted to a target
// probability t per (query, item) pair with the KD binary cross-entropy (engine kdBce). For the
// distilled students t is the teacher LLM's p_exact (EM model) or p_irr (defect model); for the
// baseline t is a 0/1 human label, which makes the same loss plain BCE.
// Optimiser as in section 6.1: AdamW with the learning rate decayed linearly from the peak to 1/80
// of it (paper: 8e-5 → 1e-6; the peak is larger for the tiny model).
import { adamw, backward, clipGradNorm, item, kdBce, scopeAsync, tensor, zeroGrad } from '../../engine/index.ts';
import { rng } from '../../engine/random.ts';
import { buildTokenBatch, encodeTower, twinParams, type TwinTower } from '../../models/twin-tower.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { progress } from '../train/progress.ts';
import { towerTokens } from './twin-tower-model.ts';

export interface KdExample {
  query: string;
  item: string;
  /** Target probability in [0, 1]. */
  t: number;
}

export interface TowerTrainOpts {
  steps: number;
  batchSize: number;
  /** Peak learning rate; decays linearly to peak/80 at the last step. */
  lr: number;
  /** s of eq. 4. */
  scale: number;
  seed: number;
  weightDecay?: number;
  label?: string;
  quiet?: boolean;
}

export interface TowerTrainResult {
  steps: number;
  /** Mean eq. 4 loss of the first and last tenth of the steps. */
  firstLoss: number;
  lastLoss: number;
  losses: { step: number; loss: number }[];
  seconds: number;
  pairsPerSec: number;
}

/** Linear decay from `peak` at step 0 to peak/80 at the last step (8e-5 → 1e-6 in the paper). */
export function linearDecayLr(peak: number, step: number, steps: number): number {
  const end = peak / 80;
  if (steps <= 1) return peak;
  return peak + ((end - peak) * step) / (steps - 1);
}

export async function trainTower(m: TwinTower, tok: Tokenizer, data: readonly KdExample[], o: TowerTrainOpts): Promise<TowerTrainResult> {
  if (data.length === 0) throw new Error(`${o.label ?? 'trainTower'}: no training pairs`);
  data.forEach((d, i) => {
    if (!(d.t >= 0 && d.t <= 1)) throw new Error(`${o.label ?? 'trainTower'}: pair ${i} ("${d.query}" / "${d.item}") has target ${d.t} outside [0, 1]`);
  });
  const maxLen = m.config.maxLen;
  const cache = new Map<string, number[]>();
  const toks = (s: string) => cache.get(s) ?? (cache.set(s, towerTokens(tok, s, maxLen)), cache.get(s)!);
  const params = twinParams(m);
  const opt = adamw(params, { lr: o.lr, weightDecay: o.weightDecay ?? 0.01 });
  const r = rng(o.seed);
  // epochs of a seeded permutation, so every pair is seen before any repeats
  let order: number[] = [];
  const next = () => {
    if (order.length === 0) {
      order = data.map((_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = r.int(i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
    }
    return order.pop()!;
  };
  const bar = progress(o.label ?? 'tower', o.steps, { unit: 'pairs', quiet: o.quiet });
  const losses: { step: number; loss: number }[] = [];
  const t0 = performance.now();
  for (let step = 0; step < o.steps; step++) {
    const idx = Array.from({ length: Math.min(o.batchSize, data.length) }, next);
    const want = step % 10 === 0 || step === o.steps - 1 || step < o.steps / 10;
    const loss = await scopeAsync(async () => {
      zeroGrad(params);
      const qb = buildTokenBatch(idx.map((i) => toks(data[i]!.query)), tok.pad, maxLen);
      const ib = buildTokenBatch(idx.map((i) => toks(data[i]!.item)), tok.pad, maxLen);
      const t = tensor(idx.map((i) => data[i]!.t), [idx.length]);
      const l = kdBce(encodeTower(m, 'query', qb), encodeTower(m, 'item', ib), t, { scale: o.scale }); // eq. 4
      backward(l);
      clipGradNorm(params, 1);
      opt.step(linearDecayLr(o.lr, step, o.steps));
      return want ? item(l) : null;
    });
    if (loss !== null) {
      if (!Number.isFinite(loss)) throw new Error(`${o.label ?? 'trainTower'}: loss ${loss} at step ${step}`);
      losses.push({ step, loss });
    }
    bar.tick(step + 1, { items: idx.length, loss: loss ?? undefined });
  }
  bar.done();
  opt.dispose();
  zeroGrad(params);
  const seconds = (performance.now() - t0) / 1000;
  const tenth = Math.max(1, Math.ceil(o.steps / 10));
  const avg = (xs: { loss: number }[]) => xs.reduce((s, x) => s + x.loss, 0) / Math.max(1, xs.length);
  return {
    steps: o.steps,
    firstLoss: avg(losses.filter((x) => x.step < tenth)),
    lastLoss: avg(losses.filter((x) => x.step >= o.steps - tenth)),
    losses,
    seconds,
    pairsPerSec: (o.steps * Math.min(o.batchSize, data.length)) / Math.max(seconds, 1e-9),
  };
}
