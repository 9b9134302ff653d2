// The LM head and its cross-entropy as one op: lmHeadCrossEntropy(h, W, t) = lmCrossEntropy(h·Wᵀ, t)
// for hidden rows h [N, D] and the head W [V, D] (PyTorch's Linear layout; the tied embedding is the
// same matrix). Math (engine/losses/lm-ce.ts, with z = h·Wᵀ):
//   ℓ_r = w_r · (logsumexp_c z_rc − z_r,t_r),   L = Σ_r ℓ_r / norm
//   U = ∂L/∂z = g·w_r·(softmax(z_r) − onehot(t_r)) / norm,   ∂L/∂h = U·W,   ∂L/∂W = Uᵀ·h
// Fused on the GPU where the head's product runs the subgroup-broadcast kernel (lavapipe): its
// epilogue writes each row's partial log-sum-exp per column tile while the logits are still in
// registers (kernels/matmul/broadcast.ts), a per-row merge (kernels/losses/lm-head-ce.ts) gives the
// loss, and the separate pass of lmCrossEntropy's forward over the [N, V] logits is gone. With a
// frozen head (LoRA) the input-gradient product computes U from z as it loads it
// (kernels/matmul/broadcast.ts lmGrad; needs V % 4 = 0), so U is never written; otherwise U is
// written over the logits (nothing else sees them) and the products run on it.
// Elsewhere (other matmul variants, D % 4 ≠ 0, the float64 backend) it is the composition itself.
import { record } from '../autograd.ts';
import { grid1d, launch } from '../runtime.ts';
import { assertLive, empty, type Tensor } from '../tensor.ts';
import { linear } from '../ops/linear.ts';
import { matmulLmGradRaw, matmulLseRaw, matmulRaw } from '../ops/matmul.ts';
import { lossFinalize } from '../../kernels/losses/finalize.ts';
import { LMHEAD_MERGE_WG, lmHeadMerge } from '../../kernels/losses/lm-head-ce.ts';
import { lmCeBackwardGpu, lmCeSettings, lmCrossEntropy, type LmCrossEntropyOpts } from './lm-ce.ts';
import { shapeOf } from './check.ts';

export type LmHeadCrossEntropyOpts = Omit<LmCrossEntropyOpts, 'overwriteLogits'>;

const OP = 'lmHeadCrossEntropy';

/** Mean (or summed) token cross-entropy of the logits h·Wᵀ against i32 targets [N]; a scalar []. */
export function lmHeadCrossEntropy(h: Tensor, W: Tensor, targets: Tensor, opts: LmHeadCrossEntropyOpts = {}): Tensor {
  assertLive(OP, h, W);
  if (h.rank !== 2 || W.rank !== 2 || h.shape[1] !== W.shape[1] || h.shape[0]! < 1 || W.shape[0]! < 1) {
    throw new Error(`${OP}: h must be [N, D] and W [V, D] with N, V ≥ 1 but got h ${shapeOf(h)}, W ${shapeOf(W)}`);
  }
  const [N] = h.shape as [number, number];
  const V = W.shape[0]!;
  const { ignore, w, mean } = lmCeSettings(OP, h, N, targets, opts);
  const fused = W.backend === h.backend && W.dtype === 'f32' ? matmulLseRaw(h, W) : null;
  // the composition: the float64 reference, and the GPU wherever the fused product does not apply
  if (!fused) return lmCrossEntropy(linear(h, W), targets, { ...opts, overwriteLogits: true });

  const { c: logits, part, tilesN } = fused;
  const stats = empty([N, 2]);
  const lse = empty([N, 2]); // (max, log Σ exp(z − max)) per row
  const info = empty([N, 4]); // (max, log Σ, w or 0 if ignored, target) per row
  launch(lmHeadMerge, [part, logits, targets, w ?? logits, stats, lse, info], grid1d(Math.ceil(N / LMHEAD_MERGE_WG)), [N, V, tilesN, ignore, w ? 1 : 0], OP);
  part.dispose();
  const out = empty([]);
  const norm = empty([1]);
  launch(lossFinalize, [stats, out, norm], [1, 1, 1], [N, mean ? 1 : 0], OP);
  stats.dispose();
  const saved = [logits, lse, info, norm];
  let spent = false;
  const y = record(out, OP, [h, W], (g) => {
    if (spent) throw new Error(`${OP}: backward ran twice through one loss; its logits' storage may hold their gradient`);
    spent = true;
    // A frozen head (LoRA) needs only ∂L/∂h, whose product computes U as it loads z: U is never
    // written. The head's own gradient needs U twice, so U is written once (over z) and both
    // products read it: measured cheaper on lavapipe than computing U in both products' loads.
    const dh = h.requiresGrad && !W.requiresGrad ? matmulLmGradRaw(logits, W, false, info, g, norm) : null; // [N, V]·[V, D]
    const u = dh || !(h.requiresGrad || W.requiresGrad) ? null : lmCeBackwardGpu(OP, logits, targets, w, lse, g, norm, ignore, true);
    const grads = [h.requiresGrad ? (dh ?? matmulRaw(u!, W)) : null, W.requiresGrad ? matmulRaw(u!, h, true, false) : null];
    u?.dispose();
    for (const t of saved) t.dispose();
    return grads;
  }, [logits]); // the [N, V] logits wait for the backward (their gradient is written over them)
  if (!y.requiresGrad) for (const t of saved) t.dispose(); // no backward will need them
  return y;
}
