// Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_, norm type 2) entirely on the
// device: partial sums of squares per workgroup, one finalize kernel that writes the norm and the
// coefficient min(1, maxNorm/(norm + 1e-6)), and an in-place scale of every gradient by that
// coefficient read from a buffer — no host readback, so training never stalls on it.

import { grid1d, launch } from '../runtime.ts';
import { empty, Tensor } from '../tensor.ts';
import { clipFinalize, clipScale, clipSumsq, CLIP_VPT, CLIP_WG } from '../../kernels/clip/norm.ts';
import { clipRef } from '../reference/clip.ts';
import { chunks, slotsPerLaunch } from './group.ts';

/** Scales the gradients of `params` in place so their global L2 norm is at most maxNorm; returns the norm before clipping as a [] tensor. */
export function clipGradNorm(params: Tensor[], maxNorm: number): Tensor {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm ${maxNorm} must be positive`);
  const grads = params.map((p) => p.grad).filter((g): g is Tensor => !!g && g.size > 0);
  const backend = params[0]?.backend ?? 'gpu';
  for (const g of grads) {
    if (g.backend !== backend) throw new Error(`clipGradNorm: gradients on different backends (${g} vs ${params[0]})`);
    if (g.dtype !== 'f32') throw new Error(`clipGradNorm: gradient ${g} is not f32`);
  }
  const norm = empty([], 'f32', backend);
  if (backend === 'cpu') {
    (norm.cpu as Float64Array)[0] = clipRef(grads.map((g) => g.cpu as Float64Array), maxNorm);
    return norm;
  }
  const per = CLIP_WG * CLIP_VPT * 4; // elements per workgroup in the partial sums
  const total = grads.reduce((s, g) => s + Math.ceil(g.size / per), 0);
  const part = empty([Math.max(1, total)], 'f32', 'gpu');
  const coef = empty([1], 'f32', 'gpu');
  const k = slotsPerLaunch(1, 1);
  let base = 0;
  for (const grp of chunks(grads, k)) {
    const ps: number[] = [base];
    let w = 0;
    for (const g of grp) ps.push(g.size, (w += Math.ceil(g.size / per)));
    launch(clipSumsq(grp.length), [...grp, part], grid1d(w), ps, 'clipGradNorm');
    base += w;
  }
  launch(clipFinalize, [part, norm, coef], [1, 1, 1], [total, { f: maxNorm }], 'clipGradNorm');
  for (const grp of chunks(grads, k)) {
    const ends: number[] = [];
    let e = 0;
    for (const g of grp) ends.push((e += Math.ceil(g.size / 4)));
    launch(clipScale(grp.length), [...grp, coef], grid1d(Math.ceil(e / (CLIP_WG * 4))), ends, 'clipGradNorm');
  }
  part.dispose();
  coef.dispose();
  return norm;
}
