// Token-level language-model cross-entropy over the full vocabulary (the generation loss of the
// relevance answer and of the auxiliary translation task, paper §3.2), fused log-softmax + NLL:
//
//   ℓ_r = w_r · (logsumexp_c z_rc − z_r,t_r)            for tokens with t_r ≠ ignoreIndex, else 0
//   'mean': L = Σ_r ℓ_r / #{r : t_r ≠ ignoreIndex}       'sum': L = Σ_r ℓ_r
//
// ignoreIndex (default −100) marks prompt tokens, which carry no loss and do not count in the mean.
// w is a per-token task weight (e.g. 0.1 on translation tokens): it scales a token's loss but not the
// divisor, so a down-weighted task contributes less rather than being renormalised away. A batch
// whose tokens are all ignored has L = 0 and a zero gradient.
// A target outside [0, V) that is not ignoreIndex throws on the cpu backend and makes the loss NaN
// on the GPU.
//
// Gradient, written directly by one kernel: ∂L/∂z_rc = w_r·(softmax(z_r)_c − [c = t_r]) / norm.
// The forward never materialises the [N, V] probabilities: each row's log-sum-exp is accumulated
// online over vocabulary chunks (kernels/losses/lm-ce.ts); only (max, log Σ) [N, 2] is kept for the backward.
import { record } from '../autograd.ts';
import { grid1d, launch } from '../runtime.ts';
import { assertDtype, assertLive, empty, view, type Tensor } from '../tensor.ts';
import { LMCE_BWD_VPT, LMCE_WG, lmCeBackward, lmCeForward } from '../../kernels/losses/lm-ce.ts';
import { lossFinalize } from '../../kernels/losses/finalize.ts';
import { lmCeBackwardRef, lmCeForwardRef, type LmCeArgs } from '../reference/losses/lm-ce.ts';
import { expectReduction, expectShape, expectTensors, shapeOf, type Reduction } from './check.ts';

export interface LmCrossEntropyOpts {
  ignoreIndex?: number; // default −100
  weights?: Tensor; // f32 [N] per-token task weights
  reduction?: Reduction; // default 'mean' over non-ignored tokens
  /**
   * The backward writes the logits' gradient over the logits instead of a new [N, V] buffer: the
   * largest transient of an LM training step (a third of its peak memory for a small model at
   * V = 3000). Only for logits nothing reads after backward() — a training step's own logits.
   */
  overwriteLogits?: boolean;
}

const OP = 'lmCrossEntropy';

/** The validated settings of an LM cross-entropy over N rows (`like`: the tensor that fixes the backend). */
export function lmCeSettings(op: string, like: Tensor, N: number, targets: Tensor, opts: LmCrossEntropyOpts) {
  const ignore = opts.ignoreIndex ?? -100;
  if (!Number.isInteger(ignore)) throw new Error(`${op}: ignoreIndex ${ignore} is not an integer`);
  const reduction = opts.reduction ?? 'mean';
  expectReduction(op, reduction, ['mean', 'sum']);
  const w = opts.weights ?? null;
  expectTensors(op, [[like, 'f32'], [targets, 'i32'], ...(w ? [[w, 'f32'] as [Tensor, 'f32']] : [])]);
  expectShape(op, 'targets', targets, [N]);
  if (w) expectShape(op, 'weights', w, [N]);
  return { ignore, w, mean: reduction === 'mean' };
}

/** dlogits = g·w_r·(exp(z − lse_r) − onehot)/norm on the GPU, over the logits when `overwrite`. */
export function lmCeBackwardGpu(op: string, logits: Tensor, targets: Tensor, w: Tensor | null, lse: Tensor, g: Tensor, norm: Tensor, ignore: number, overwrite: boolean): Tensor {
  const [N, V] = logits.shape as [number, number];
  const vec4 = V % 4 === 0;
  const rowsPerZ = Math.min(N, 65535);
  const cols = vec4 ? V / 4 : V;
  const grid: [number, number, number] = [Math.ceil(cols / (LMCE_WG * LMCE_BWD_VPT)), rowsPerZ, Math.ceil(N / rowsPerZ)];
  const params = [N, V, ignore, w ? 1 : 0, rowsPerZ, cols];
  if (overwrite) {
    // a view shares the logits' storage: the gradient lives there once the kernel has run
    const dx = view(logits, [N, V]);
    launch(lmCeBackward(vec4, true), [targets, w ?? targets, lse, g, norm, dx], grid, params, `${op} backward`);
    return dx;
  }
  const dx = empty([N, V]);
  launch(lmCeBackward(vec4), [logits, targets, w ?? logits, lse, g, norm, dx], grid, params, `${op} backward`);
  return dx;
}

/** Fused LM cross-entropy of logits [N, V] against i32 targets [N]; returns a scalar []. */
export function lmCrossEntropy(logits: Tensor, targets: Tensor, opts: LmCrossEntropyOpts = {}): Tensor {
  assertLive(OP, logits);
  assertDtype(OP, logits, 'f32');
  if (logits.rank !== 2 || logits.shape[0]! < 1 || logits.shape[1]! < 1) throw new Error(`${OP}: logits must be [N, V] with N, V ≥ 1 but got ${shapeOf(logits)}`);
  const [N, V] = logits.shape as [number, number];
  const { ignore, w, mean } = lmCeSettings(OP, logits, N, targets, opts);

  if (logits.backend === 'cpu') {
    const a: LmCeArgs = { logits: logits.cpu!, N, V, targets: targets.cpu!, ignoreIndex: ignore, weights: w ? w.cpu! : null, mean };
    const { total, norm } = lmCeForwardRef(a);
    const out = empty([], 'f32', 'cpu');
    (out.cpu as Float64Array)[0] = total;
    return record(out, OP, [logits], (g) => {
      const dx = opts.overwriteLogits ? view(logits, [N, V]) : empty([N, V], 'f32', 'cpu');
      (dx.cpu as Float64Array).set(lmCeBackwardRef(a, (g.cpu as Float64Array)[0]!, norm));
      return [dx];
    });
  }

  const stats = empty([N, 2]);
  const lse = empty([N, 2]); // (max, log Σ exp(z − max)) per row
  const vec4 = V % 4 === 0;
  launch(lmCeForward(vec4), [logits, logits, targets, w ?? logits, stats, lse], grid1d(N), [N, V, ignore, w ? 1 : 0], OP);
  const out = empty([]);
  const norm = empty([1]);
  launch(lossFinalize, [stats, out, norm], [1, 1, 1], [N, mean ? 1 : 0], OP);
  stats.dispose();
  const y = record(out, OP, [logits], (g) => [lmCeBackwardGpu(OP, logits, targets, w, lse, g, norm, ignore, opts.overwriteLogits ?? false)]);
  if (!y.requiresGrad) {
    lse.dispose(); // no backward will need them
    norm.dispose();
  }
  return y;
}
