// Inverted dropout with a counter-based generator: the mask is a pure function of (seed, element
// index), so the same seed gives the same mask on the GPU and in the float64 reference, the
// backward recomputes the mask instead of storing it, and a resumed run reproduces its masks.
import { record } from '../autograd.ts';
import { grid1d, launch } from '../runtime.ts';
import { assertDtype, assertLive, empty, Tensor } from '../tensor.ts';
import { dropoutKernel, DROPOUT_VPT, DROPOUT_WG } from '../../kernels/dropout/apply.ts';
import { dropoutRef, dropScale, dropThreshold } from '../reference/dropout.ts';

export function checkDropout(op: string, p: number, seed: number): void {
  if (!(p >= 0 && p <= 1)) throw new Error(`${op}: dropout probability ${p} is not in [0, 1]`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`${op}: seed ${seed} is not a u32`);
}

/** y = x ⊙ mask(seed) / (1 − p), no autograd (the backward applies it to the gradient). */
export function dropoutRaw(x: Tensor, p: number, seed: number): Tensor {
  const out = empty(x.shape, 'f32', x.backend);
  if (out.size === 0) return out;
  if (x.backend === 'cpu') {
    (out.cpu as Float64Array).set(dropoutRef(x.cpu as Float64Array, p, seed));
    return out;
  }
  const n4 = Math.ceil(out.size / 4);
  launch(dropoutKernel, [x, out], grid1d(Math.ceil(n4 / (DROPOUT_WG * DROPOUT_VPT))), [n4, seed >>> 0, dropThreshold(p), { f: dropScale(p) }], 'dropout');
  return out;
}

/**
 * Inverted dropout (PyTorch semantics): in training each element is zeroed with probability p and
 * survivors are scaled by 1/(1 − p); out of training (or p = 0) it is the identity and returns x
 * itself. Same (seed, shape) ⇒ same mask.
 */
export function dropout(x: Tensor, p: number, seed: number, opts: { training?: boolean } = {}): Tensor {
  assertLive('dropout', x);
  assertDtype('dropout', x, 'f32');
  checkDropout('dropout', p, seed);
  if (!(opts.training ?? true) || p === 0) return x;
  const y = dropoutRaw(x, p, seed);
  return record(y, 'dropout', [x], (g) => [dropoutRaw(g, p, seed)]);
}
