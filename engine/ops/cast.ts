// Casts between f32 and f16: toF16(x), toF32(x). The gradient of a cast is the cast of the gradient
// back to the input's dtype (rounding is treated as the identity, as mixed-precision training does).
// Kernels: kernels/cast/f16.ts; reference: engine/reference/cast.ts.
import { record } from '../autograd.ts';
import { grid1d, launch } from '../runtime.ts';
import { assertDtype, assertLive, empty, Tensor, type DType } from '../tensor.ts';
import { CAST_WG, castF16ToF32, castF32ToF16 } from '../../kernels/cast/f16.ts';
import { toF16Ref } from '../reference/cast.ts';

function castRaw(x: Tensor, to: DType): Tensor {
  const out = empty(x.shape, to, x.backend);
  if (out.size === 0) return out;
  if (x.backend === 'cpu') {
    (out.cpu as Float64Array).set(to === 'f16' ? toF16Ref(x.cpu!) : x.cpu!);
    return out;
  }
  const k = to === 'f16' ? castF32ToF16 : castF16ToF32;
  launch(k, [x, out], grid1d(Math.ceil(Math.ceil(x.size / 2) / CAST_WG)), [x.size], to === 'f16' ? 'toF16' : 'toF32');
  return out;
}

/** x rounded to f16 (nearest even; beyond ±65504 by half a step or more: ±Inf). */
export function toF16(x: Tensor): Tensor {
  assertLive('toF16', x);
  assertDtype('toF16', x, 'f32');
  return record(castRaw(x, 'f16'), 'toF16', [x], (g) => [toF32(g)]);
}

/** x widened to f32 (exact). */
export function toF32(x: Tensor): Tensor {
  assertLive('toF32', x);
  assertDtype('toF32', x, 'f16');
  return record(castRaw(x, 'f32'), 'toF32', [x], (g) => [toF16(g)]);
}
