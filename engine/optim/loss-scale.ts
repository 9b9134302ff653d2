// Dynamic loss scaling for mixed-precision training (Micikevicius et al. 2018; the policy of
// torch.amp.GradScaler). f16 gradients below 2^-24 flush to zero, so the backward pass runs on S·L:
//   backward(S·L)                       every gradient is S·∂L/∂θ, small ones stay representable
//   overflow = any gradient Inf or NaN  one pass over all of them on the device, one flag word
//   g ← g / S                           before clipping, so clip and AdamW see ∂L/∂θ
//   overflow:  skip the optimizer step (θ, AdamW's m, v and step count unchanged), S ← max(min, S/2)
//   otherwise: step; after `growthInterval` clean steps in a row S ← min(max, 2S)
// S is a power of two, so scaling and unscaling are exact. The host reads the flag once per step
// (as GradScaler's found_inf): the decision to step is the only thing the policy needs to know.
// The scaler is plain data (LossScale), saved with a run's checkpoints so a resumed run scales as
// the uninterrupted one would.
import { fill } from '../create.ts';
import { grid1d, launch, read } from '../runtime.ts';
import { empty, type Tensor } from '../tensor.ts';
import { gradUnscale, UNSCALE_WG } from '../../kernels/loss-scale/unscale.ts';
import { unscaleRef } from '../reference/loss-scale.ts';
import { chunks, slotsPerLaunch } from './group.ts';

export interface LossScaleOpts {
  /** The first scale (a power of two). */
  init: number;
  /** Clean steps in a row after which the scale doubles. */
  growthInterval: number;
  /** Bounds of the scale (powers of two, min ≤ init ≤ max). */
  min: number;
  max: number;
}

/** GradScaler's init and growth interval; bounds that keep 1/S and S·L well inside f32. */
export const LOSS_SCALE_DEFAULTS: LossScaleOpts = { init: 2 ** 16, growthInterval: 2000, min: 1, max: 2 ** 24 };

/** The scaler's state: the scale, clean steps since it last changed, and the steps skipped so far. */
export interface LossScale {
  scale: number;
  goodSteps: number;
  skipped: number;
}

const isPow2 = (x: unknown) => typeof x === 'number' && x > 0 && Number.isFinite(x) && 2 ** Math.round(Math.log2(x)) === x;

export function checkLossScaleOpts(o: LossScaleOpts): LossScaleOpts {
  const bad = (why: string): never => {
    throw new Error(`loss scale: ${why} (${JSON.stringify(o)})`);
  };
  for (const k of ['init', 'min', 'max'] as const) if (!isPow2(o[k])) bad(`${k} ${o[k]} is not a power of two`);
  if (!(o.min <= o.init && o.init <= o.max)) bad(`init ${o.init} is not within [min ${o.min}, max ${o.max}]`);
  if (!Number.isInteger(o.growthInterval) || o.growthInterval < 1) bad(`growthInterval ${o.growthInterval} must be a positive integer`);
  return o;
}

export function lossScaleInit(o: LossScaleOpts = LOSS_SCALE_DEFAULTS): LossScale {
  checkLossScaleOpts(o);
  return { scale: o.init, goodSteps: 0, skipped: 0 };
}

/** The state after a step that did (overflow) or did not overflow. */
export function lossScaleNext(s: LossScale, overflow: boolean, o: LossScaleOpts = LOSS_SCALE_DEFAULTS): LossScale {
  if (overflow) return { scale: Math.max(o.min, s.scale / 2), goodSteps: 0, skipped: s.skipped + 1 };
  const good = s.goodSteps + 1;
  if (good >= o.growthInterval) return { scale: Math.min(o.max, s.scale * 2), goodSteps: 0, skipped: s.skipped };
  return { scale: s.scale, goodSteps: good, skipped: s.skipped };
}

/** A state read back from a checkpoint, checked against the bounds (`where` names the file). */
export function lossScaleFrom(v: unknown, where: string, o: LossScaleOpts = LOSS_SCALE_DEFAULTS): LossScale {
  const s = v as Partial<LossScale> | null;
  const ok =
    !!s && typeof s === 'object' && isPow2(s.scale) && s.scale! >= o.min && s.scale! <= o.max &&
    Number.isInteger(s.goodSteps) && s.goodSteps! >= 0 && s.goodSteps! < o.growthInterval && Number.isInteger(s.skipped) && s.skipped! >= 0;
  if (!ok) throw new Error(`${where}: loss scale ${JSON.stringify(v)} is not a scaler state (scale a power of two in [${o.min}, ${o.max}], goodSteps in [0, ${o.growthInterval}), skipped ≥ 0)`);
  return { scale: s!.scale!, goodSteps: s!.goodSteps!, skipped: s!.skipped! };
}

/**
 * Checks the gradients of `params` for Inf/NaN in one pass and, with `write`, multiplies them by
 * `inv` in place. Returns the flag: a u32 [1] tensor, 1 when any gradient held Inf or NaN. Nothing
 * is read back.
 */
export function unscaleGrads(params: Tensor[], inv: number, write = true): Tensor {
  if (!(inv > 0 && Number.isFinite(inv))) throw new Error(`unscaleGrads: 1/S = ${inv} must be a finite number > 0`);
  const grads = params.map((p) => p.grad).filter((g): g is Tensor => !!g && g.size > 0);
  const backend = params[0]?.backend ?? 'gpu';
  for (const g of grads) {
    if (g.backend !== backend) throw new Error(`unscaleGrads: gradients on different backends (${g} vs ${params[0]})`);
    if (g.dtype !== 'f32') throw new Error(`unscaleGrads: gradient ${g} is not f32 (master weights and their gradients are f32)`);
  }
  if (backend === 'cpu') {
    const flag = empty([1], 'u32', 'cpu');
    (flag.cpu as Uint32Array)[0] = unscaleRef(grads.map((g) => g.cpu as Float64Array), inv, write) ? 1 : 0;
    return flag;
  }
  const flag = fill([1], 0, 'gpu', 'u32');
  for (const grp of chunks(grads, slotsPerLaunch(1, 1))) {
    const ps: (number | { f: number })[] = [{ f: inv }];
    let e = 0;
    for (const g of grp) ps.push(g.size, (e += Math.ceil(g.size / 4)));
    launch(gradUnscale(grp.length, write), [...grp, flag], grid1d(Math.ceil(e / (UNSCALE_WG * 4))), ps, 'unscaleGrads');
  }
  return flag;
}

/** Whether any gradient of `params` is Inf or NaN, after unscaling them by `inv` (one readback). */
export async function gradsOverflow(params: Tensor[], inv: number): Promise<boolean> {
  const flag = unscaleGrads(params, inv);
  try {
    return (await read(flag))[0] !== 0;
  } finally {
    flag.dispose();
  }
}

/**
 * The scaler's part of a training step, after backward(S·L): unscale and check the gradients, run
 * `apply` (clipping and the optimizer step) only when none overflowed, and return the next state.
 */
export async function scaledStep(params: Tensor[], s: LossScale, apply: () => void, o: LossScaleOpts = LOSS_SCALE_DEFAULTS): Promise<{ scale: LossScale; overflow: boolean }> {
  const overflow = await gradsOverflow(params, 1 / s.scale);
  if (!overflow) apply();
  return { scale: lossScaleNext(s, overflow, o), overflow };
}
