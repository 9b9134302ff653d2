// Mixed-precision compute of the decoder ('mixed-f16'; Micikevicius et al. 2018): f32 master weights,
// f16 products. The one op that changes is the dense product x·Wᵀ:
//   f16:  the operands of every projection without LoRA (q, k, v, o, gate, up, down) and of the LM and
//         label heads — x and W rounded to f16, multiplied with f32 accumulation, f32 output; in
//         backward the output gradient is rounded to f16 and both operand gradients are f16 products
//         with f32 accumulation and f32 outputs (engine linearHalf: one op, 6 dispatches per product
//         where the cast-and-multiply chain took 8).
//   f32:  everything else — the embedding gather, RMSNorm, RoPE, attention, SwiGLU, residual adds,
//         the losses, LoRA projections (their fused kernels are f32 only), the master weights and
//         their gradients, clipping and AdamW. Activations between the products stay f32, so no
//         other op needs an f16 kernel.
// The f16 gradients are what can overflow (or flush to zero), hence dynamic loss scaling
// (engine/optim/loss-scale.ts) in the training loop.
import { linear, linearHalf, noGrad, toF16, toF16Many, type Tensor } from '../engine/index.ts';

export type Precision = 'f32' | 'mixed-f16';
export const PRECISIONS: readonly Precision[] = ['f32', 'mixed-f16'];

/** f16 copies of the weights a step multiplies, while withHalfWeights runs (null otherwise), and of the
 * inputs multiplied so far (q, k and v share theirs, as gate and up do: one cast each). */
let halfCopies: Map<Tensor, Tensor> | null = null;
let halfInputs: Map<Tensor, Tensor> | null = null;

/**
 * Runs `fn` with f16 copies of `weights` made up front in a few launches (toF16Many), which denseT
 * multiplies instead of casting a weight where it is used: one cast per weight and step instead of
 * one per product (a step with relevance and LM sub-batches multiplies each weight twice). The copies
 * belong to the caller's scope (linearHalf keeps them for the backward); the bits are toF16's.
 */
export function withHalfWeights<T>(weights: readonly Tensor[], fn: () => T): T {
  // the cache of inputs keys on tensor identity: an input is not changed in place while it is in use
  const copies = toF16Many(weights);
  const prev = [halfCopies, halfInputs] as const;
  halfCopies = new Map(weights.map((w, i) => [w, copies[i]!]));
  halfInputs = new Map();
  try {
    return fn();
  } finally {
    [halfCopies, halfInputs] = prev;
  }
}

/** x·Wᵀ (W [out, in], PyTorch's Linear layout) in the given precision; f32 output either way. */
export function denseT(x: Tensor, w: Tensor, precision: Precision = 'f32'): Tensor {
  if (precision === 'f32') return linear(x, w);
  if (precision !== 'mixed-f16') throw new Error(`denseT: precision "${precision}" is not one of ${PRECISIONS.join(', ')}`);
  const w16 = halfCopies?.get(w);
  let x16 = halfInputs?.get(x);
  if (halfInputs && (!x16 || x16.disposed)) halfInputs.set(x, (x16 = noGrad(() => toF16(x))));
  return linearHalf(x, w, w16 && !w16.disposed ? w16 : undefined, x16);
}
