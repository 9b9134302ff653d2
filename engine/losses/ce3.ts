// Three-token softmax cross-entropy with soft labels: the self-distillation loss of the paper,
// eqs. 2 and 3. The LM's logits at the answer position are [B, V]; only the three label tokens
// (exact / substitute / irrelevant) take part:
//
//   p̂_i = softmax(z_i[id_e], z_i[id_s], z_i[id_i])                        (three logits, not V)
//   ℓ_i = w_i · [ α·CE(onehot(hard_i), p̂_i) + (1−α)·CE(soft_i, p̂_i) ]      (eq. 2)
//   CE(t, p̂) = −Σ_k t_k·log p̂_k                                           (eq. 3)
//
// Note on eq. 2: the sentence under it swaps the names (it calls hl the soft label and sl the human
// label), but eq. 3 writes CE(sl, p̂) with the teacher triple ⟨p_e, p_s, p_i⟩, so sl is the soft
// label. We implement that meaning: α weights the human one-hot term, 1−α the teacher's soft triple
// (paper: α = 0.5). CE is linear in its target, so ℓ_i = CE(t_i, p̂_i) with t_i = α·onehot + (1−α)·soft.
//
// Gradient (one fused kernel): ∂ℓ_i/∂z_i[id_k] = w_i·(p̂_ik·Σ_j t_ij − t_ik), which is p̂ − t when the
// soft row sums to 1; every other vocabulary column gets exactly 0. Labels, soft triples and weights
// are constants (no gradient). Reductions: 'mean' = Σ_i ℓ_i / B (weights scale samples, they are
// not renormalised), 'sum' = Σ_i ℓ_i, 'none' = [B] per-sample ℓ_i.
// A hard label outside {0, 1, 2} throws on the cpu backend; on the GPU that row's loss is NaN (a
// check there would need a readback), which CSRM_CHECK_NAN=1 names.
import { record } from '../autograd.ts';
import { grid1d, launch } from '../runtime.ts';
import { assertDtype, assertLive, empty, type Tensor } from '../tensor.ts';
import { CE3_BWD_VPT, CE3_WG, ce3Backward, ce3Forward, ce3Probs } from '../../kernels/losses/ce3.ts';
import { ce3BackwardRef, ce3ForwardRef, ce3ProbsRef, type Ce3Args } from '../reference/losses/ce3.ts';
import { expectReduction, expectShape, expectTensors, shapeOf } from './check.ts';

export type LabelIds = readonly [number, number, number];

export interface ThreeTokenCEOpts {
  alpha?: number; // weight of the human one-hot term (paper: 0.5); ignored without soft labels
  weights?: Tensor; // f32 [B] per-sample weights
  reduction?: 'mean' | 'sum' | 'none';
}

const OP = 'threeTokenCE';

function checkIds(op: string, logits: Tensor, ids: LabelIds): void {
  const V = logits.shape[1]!;
  if (ids.length !== 3 || new Set(ids).size !== 3 || ids.some((c) => !Number.isInteger(c) || c < 0 || c >= V)) {
    throw new Error(`${op}: labelIds [${ids.join(', ')}] must be three distinct columns of logits ${shapeOf(logits)}`);
  }
}

function checkLogits(op: string, logits: Tensor): void {
  assertLive(op, logits);
  assertDtype(op, logits, 'f32');
  if (logits.rank !== 2 || logits.shape[0]! < 1) throw new Error(`${op}: logits must be [B, V] with B ≥ 1 but got ${shapeOf(logits)}`);
}

/** Fused three-token CE (eqs. 2–3). Returns a scalar [] ('mean' | 'sum') or [B] ('none'). */
export function threeTokenCE(logits: Tensor, labelIds: LabelIds, hard: Tensor, soft: Tensor | null, opts: ThreeTokenCEOpts = {}): Tensor {
  checkLogits(OP, logits);
  const [B, V] = logits.shape as [number, number];
  checkIds(OP, logits, labelIds);
  const alpha = opts.alpha ?? 0.5;
  const reduction = opts.reduction ?? 'mean';
  expectReduction(OP, reduction, ['mean', 'sum', 'none']);
  if (!Number.isFinite(alpha)) throw new Error(`${OP}: alpha ${alpha} is not finite`);
  const w = opts.weights ?? null;
  expectTensors(OP, [[logits, 'f32'], [hard, 'i32'], ...(soft ? [[soft, 'f32'] as [Tensor, 'f32']] : []), ...(w ? [[w, 'f32'] as [Tensor, 'f32']] : [])]);
  expectShape(OP, 'hard labels', hard, [B]);
  if (soft) expectShape(OP, 'soft labels', soft, [B, 3]);
  if (w) expectShape(OP, 'weights', w, [B]);
  const scale = reduction === 'mean' ? 1 / B : 1;
  const perRow = reduction === 'none';

  let out: Tensor;
  if (logits.backend === 'cpu') {
    const a = args(logits, labelIds, hard, soft, alpha, w);
    const l = ce3ForwardRef(a);
    out = empty(perRow ? [B] : [], 'f32', 'cpu');
    if (perRow) (out.cpu as Float64Array).set(l);
    else (out.cpu as Float64Array)[0] = l.reduce((s, x) => s + x, 0) * scale;
  } else {
    const loss = empty([B]);
    const total = empty([]);
    launch(ce3Forward, [logits, hard, soft ?? logits, w ?? logits, loss, total], [1, 1, 1], params(B, V, labelIds, soft, w, false, alpha, scale), OP);
    out = perRow ? loss : total;
    (perRow ? total : loss).dispose();
  }
  return record(out, OP, [logits], (g) => [ce3Grad(logits, labelIds, hard, soft, alpha, w, g, perRow, scale)]);
}

function args(logits: Tensor, ids: LabelIds, hard: Tensor, soft: Tensor | null, alpha: number, w: Tensor | null): Ce3Args {
  const [B, V] = logits.shape as [number, number];
  return { logits: logits.cpu!, B, V, ids, hard: hard.cpu!, soft: soft ? soft.cpu! : null, alpha, weights: w ? w.cpu! : null };
}

function params(B: number, V: number, ids: LabelIds, soft: Tensor | null, w: Tensor | null, gPerRow: boolean, alpha: number, scale: number) {
  return [B, V, ids[0], ids[1], ids[2], soft ? 1 : 0, w ? 1 : 0, gPerRow ? 1 : 0, { f: alpha }, { f: scale }];
}

/** The dedicated backward op: dlogits [B, V] from the output gradient g ([] or [B]). */
function ce3Grad(logits: Tensor, ids: LabelIds, hard: Tensor, soft: Tensor | null, alpha: number, w: Tensor | null, g: Tensor, perRow: boolean, scale: number): Tensor {
  const [B, V] = logits.shape as [number, number];
  const dx = empty([B, V], 'f32', logits.backend);
  if (logits.backend === 'cpu') {
    const G = g.cpu as Float64Array;
    (dx.cpu as Float64Array).set(ce3BackwardRef(args(logits, ids, hard, soft, alpha, w), (i) => (perRow ? G[i]! : G[0]! * scale)));
    return dx;
  }
  const n4 = Math.ceil((B * V) / 4);
  launch(ce3Backward, [logits, hard, soft ?? logits, w ?? logits, g, dx], grid1d(Math.ceil(n4 / (CE3_WG * CE3_BWD_VPT))), params(B, V, ids, soft, w, perRow, alpha, scale), `${OP} backward`);
  return dx;
}

/** p̂ [B, 3] over the three label tokens, for inference and scoring (never recorded for autograd). */
export function threeTokenProbs(logits: Tensor, labelIds: LabelIds): Tensor {
  const op = 'threeTokenProbs';
  checkLogits(op, logits);
  checkIds(op, logits, labelIds);
  const [B, V] = logits.shape as [number, number];
  const out = empty([B, 3], 'f32', logits.backend);
  if (logits.backend === 'cpu') {
    (out.cpu as Float64Array).set(ce3ProbsRef({ logits: logits.cpu!, B, V, ids: labelIds }));
    return out;
  }
  launch(ce3Probs, [logits, out], grid1d(Math.ceil(B / CE3_WG)), [B, V, labelIds[0], labelIds[1], labelIds[2]], op);
  return out;
}

