// EBR distillation loss of retrieval-based query augmentation (paper §3.3, eq. 1): the LLM ranker's
// predicted conversion rates CVR(q, p) teach an embedding-based retrieval model.
//
//   S_ij = ⟨q_i, p_j⟩                     queries Q [B, D]; candidates P [M, D] with M = B + N:
//                                         row i of P is query i's positive; the other B − 1
//                                         positives (in-batch) and N sampled rows are its negatives
//   L_cl,i  = −CVR_i · log( exp(S_ii/τ) / Σ_j exp(S_ij/τ) )
//   L_mse,i = (CVR_i − S_ii)²
//   L = (1/B)·Σ_i [ L_cl,i + mseWeight·L_mse,i ]          ('sum' drops the 1/B)
//
// Choice documented here: eq. 1 prints L_cl as the ratio CVR·exp(⟨q,p⟩)/Σ_{p⁻} exp(⟨q,p⁻⟩) without a
// log and with only negatives below. Minimising that ratio would push the positive's score down, so
// we implement the usual CVR-weighted InfoNCE: −CVR·log-softmax, with the positive in the
// denominator (standard, and bounded below by 0). τ (default 1) scales the scores of the softmax
// only; the MSE compares CVR with the raw inner product as eq. 1 does. CVR is a constant (no gradient).
//
// Gradient: dS_ij = CVR_i·(softmax(S_i/τ)_j − δ_ij)/τ + δ_ij·2·mseWeight·(S_ii − CVR_i) from one
// dedicated kernel (kernels/losses/ebr.ts), then dQ = dS·P and dP = dSᵀ·Q with the engine's matmul.
import { record } from '../autograd.ts';
import { grid1d, launch } from '../runtime.ts';
import { empty, type Tensor } from '../tensor.ts';
import { EBR_WG, ebrBackward, ebrForward } from '../../kernels/losses/ebr.ts';
import { lossFinalize } from '../../kernels/losses/finalize.ts';
import { ebrBackwardRef, ebrForwardRef, type EbrArgs } from '../reference/losses/ebr.ts';
import { matmulRaw } from '../ops/matmul.ts';
import { expectRank, expectReduction, expectShape, expectTensors, shapeOf, type Reduction } from './check.ts';

export interface EbrDistillOpts {
  mseWeight?: number; // weight of the MSE term (default 1)
  temperature?: number; // τ of the contrastive softmax (default 1)
  reduction?: Reduction;
}

const OP = 'ebrDistill';

/** Eq. 1: qEmb [B, D], pEmb [B + N, D] (positives first, then sampled negatives), cvr [B] → scalar []. */
export function ebrDistill(qEmb: Tensor, pEmb: Tensor, cvr: Tensor, opts: EbrDistillOpts = {}): Tensor {
  expectTensors(OP, [[qEmb, 'f32'], [pEmb, 'f32'], [cvr, 'f32']]);
  expectRank(OP, 'query embeddings', qEmb, 2);
  expectRank(OP, 'product embeddings', pEmb, 2);
  const [B, D] = qEmb.shape as [number, number];
  const M = pEmb.shape[0]!;
  if (B < 1 || D < 1) throw new Error(`${OP}: query embeddings must be [B, D] with B, D ≥ 1 but got ${shapeOf(qEmb)}`);
  if (pEmb.shape[1] !== D || M < B) {
    throw new Error(`${OP}: product embeddings must be [B + N, D] = [≥ ${B}, ${D}] (positives first) but got ${shapeOf(pEmb)} for queries ${shapeOf(qEmb)}`);
  }
  expectShape(OP, 'cvr', cvr, [B]);
  const tau = opts.temperature ?? 1;
  const lambda = opts.mseWeight ?? 1;
  if (!(tau > 0) || !Number.isFinite(tau)) throw new Error(`${OP}: temperature ${tau} must be a positive number`);
  if (!Number.isFinite(lambda)) throw new Error(`${OP}: mseWeight ${lambda} is not finite`);
  const reduction = opts.reduction ?? 'mean';
  expectReduction(OP, reduction, ['mean', 'sum']);
  const mean = reduction === 'mean';

  if (qEmb.backend === 'cpu') {
    const a: EbrArgs = { q: qEmb.cpu!, p: pEmb.cpu!, cvr: cvr.cpu!, B, M, D, temperature: tau, mseWeight: lambda };
    const norm = mean ? B : 1;
    const out = empty([], 'f32', 'cpu');
    (out.cpu as Float64Array)[0] = ebrForwardRef(a).reduce((s, x) => s + x, 0) / norm;
    return record(out, OP, [qEmb, pEmb], (g) => {
      const { dq, dp } = ebrBackwardRef(a, (g.cpu as Float64Array)[0]!, norm);
      const gq = empty([B, D], 'f32', 'cpu');
      const gp = empty([M, D], 'f32', 'cpu');
      (gq.cpu as Float64Array).set(dq);
      (gp.cpu as Float64Array).set(dp);
      return [gq, gp];
    });
  }

  const S = matmulRaw(qEmb, pEmb, false, true); // [B, M]
  const stats = empty([B, 2]);
  const lse = empty([B, 2]);
  const params = [B, M, { f: 1 / tau }, { f: lambda }];
  launch(ebrForward, [S, cvr, stats, lse], grid1d(B), params, OP);
  const out = empty([]);
  const norm = empty([1]);
  launch(lossFinalize, [stats, out, norm], [1, 1, 1], [B, mean ? 1 : 0], OP);
  stats.dispose();
  const y = record(out, OP, [qEmb, pEmb], (g) => {
    const dS = empty([B, M]);
    const rowsPerZ = Math.min(B, 65535);
    launch(ebrBackward, [S, cvr, lse, g, norm, dS], [Math.ceil(M / EBR_WG), rowsPerZ, Math.ceil(B / rowsPerZ)], [...params, rowsPerZ], `${OP} backward`);
    const gq = qEmb.requiresGrad ? matmulRaw(dS, pEmb) : null; // dQ = dS·P
    const gp = pEmb.requiresGrad ? matmulRaw(dS, qEmb, true, false) : null; // dP = dSᵀ·Q
    dS.dispose();
    return [gq, gp];
  });
  if (!y.requiresGrad) for (const t of [S, lse, norm]) t.dispose();
  return y;
}
