// Knowledge-distillation binary cross-entropy of the online twin-tower model (paper §3.5, eq. 4):
//
//   c_j = ⟨q_j, p_j⟩ / (|q_j|·|p_j|)          cosine of the query and item tower outputs
//   p̂_j = σ(s·c_j)                            s = 8 in the paper (c ∈ [−1, 1] is not a probability)
//   KD = Σ_j −[t_j·log p̂_j + (1 − t_j)·log(1 − p̂_j)]                       (eq. 4)
//
// t_j is the teacher LLM's probability (p_e for the exact-match model; the defect model uses p_i).
// Eq. 4's prose swaps which p is the teacher's; the loss is the standard one: the student p̂ is
// scored against the teacher t. Computed as softplus(s·c) − t·s·c, which is finite for any c.
// 'mean' divides by B (default), 'sum' does not. Norms are clamped at 1e-8 (as torch's cosine).
//
// Gradient (dedicated kernel): with k = s·(σ(s·c) − t),
//   ∂/∂q = k·(p/(|q||p|) − c·q/|q|²),   ∂/∂p = k·(q/(|q||p|) − c·p/|p|²).
// The teacher probabilities are constants (no gradient).
import { record } from '../autograd.ts';
import { grid1d, launch } from '../runtime.ts';
import { empty, type Tensor } from '../tensor.ts';
import { KD_WG, kdBceBackward, kdBceForward } from '../../kernels/losses/kd-bce.ts';
import { lossFinalize } from '../../kernels/losses/finalize.ts';
import { kdBceBackwardRef, kdBceForwardRef, type KdBceArgs } from '../reference/losses/kd-bce.ts';
import { expectRank, expectReduction, expectShape, expectTensors, shapeOf, type Reduction } from './check.ts';

export interface KdBceOpts {
  scale?: number; // s in σ(s·c); paper: 8
  reduction?: Reduction;
}

const OP = 'kdBce';

/** Eq. 4 on σ(s·cos(q, p)) against teacher probabilities; q, p [B, D], teacher [B] → scalar []. */
export function kdBce(q: Tensor, p: Tensor, teacher: Tensor, opts: KdBceOpts = {}): Tensor {
  expectTensors(OP, [[q, 'f32'], [p, 'f32'], [teacher, 'f32']]);
  expectRank(OP, 'query embeddings', q, 2);
  if (q.shape[0]! < 1 || q.shape[1]! < 1) throw new Error(`${OP}: query embeddings must be [B, D] with B, D ≥ 1 but got ${shapeOf(q)}`);
  const [B, D] = q.shape as [number, number];
  expectShape(OP, `item embeddings (query embeddings are ${shapeOf(q)})`, p, [B, D]);
  expectShape(OP, 'teacher probabilities', teacher, [B]);
  const scale = opts.scale ?? 8;
  if (!Number.isFinite(scale)) throw new Error(`${OP}: scale ${scale} is not finite`);
  const reduction = opts.reduction ?? 'mean';
  expectReduction(OP, reduction, ['mean', 'sum']);
  const mean = reduction === 'mean';

  if (q.backend === 'cpu') {
    const a: KdBceArgs = { q: q.cpu!, p: p.cpu!, teacher: teacher.cpu!, B, D, scale };
    const norm = mean ? B : 1;
    const out = empty([], 'f32', 'cpu');
    (out.cpu as Float64Array)[0] = kdBceForwardRef(a).reduce((s, x) => s + x, 0) / norm;
    return record(out, OP, [q, p], (g) => {
      const { dq, dp } = kdBceBackwardRef(a, (g.cpu as Float64Array)[0]!, norm);
      const gq = empty([B, D], 'f32', 'cpu');
      const gp = empty([B, D], 'f32', 'cpu');
      (gq.cpu as Float64Array).set(dq);
      (gp.cpu as Float64Array).set(dp);
      return [gq, gp];
    });
  }

  const stats = empty([B, 2]);
  const params = [B, D, { f: scale }];
  launch(kdBceForward, [q, p, teacher, stats], grid1d(Math.ceil(B / KD_WG)), params, OP);
  const out = empty([]);
  const norm = empty([1]);
  launch(lossFinalize, [stats, out, norm], [1, 1, 1], [B, mean ? 1 : 0], OP);
  stats.dispose();
  const y = record(out, OP, [q, p], (g) => {
    const gq = empty([B, D]);
    const gp = empty([B, D]);
    launch(kdBceBackward, [q, p, teacher, g, norm, gq, gp], grid1d(Math.ceil(B / KD_WG)), params, `${OP} backward`);
    return [gq, gp];
  });
  if (!y.requiresGrad) norm.dispose();
  return y;
}
