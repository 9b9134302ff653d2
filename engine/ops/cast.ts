// Casts between f32 and f16: toF16(x), toF32(x). The gradient of a cast is the cast of the gradient
// back to the input's dtype (rounding is treated as the identity, as mixed-precision training does).
// Kernels: kernels/cast/f16.ts; reference: engine/reference/cast.ts.
import { record } from '../autograd.ts';
import { grid1d, launch } from '../runtime.ts';
import { assertDtype, assertLive, empty, Tensor, type DType } from '../tensor.ts';
import { CAST_WG, castF16ToF32, castF32ToF16, castF32ToF16Many, roundF32ToF16 } from '../../kernels/cast/f16.ts';
import { chunks, slotsPerLaunch } from '../optim/group.ts';
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

/** toF32(toF16(x)) in one pass, as f32: x's values rounded to f16 (nearest even, ±Inf beyond the
 * range), no f16 copy made. Raw (no gradient): for backward rules that multiply f16-rounded values in
 * f32 (linearHalf on adapters whose f16 products run on widened operands). */
export function roundToF16Raw(x: Tensor): Tensor {
  assertLive('roundToF16Raw', x);
  assertDtype('roundToF16Raw', x, 'f32');
  const out = empty(x.shape, 'f32', x.backend);
  if (out.size === 0) return out;
  if (x.backend === 'cpu') {
    (out.cpu as Float64Array).set(toF16Ref(x.cpu!));
    return out;
  }
  launch(roundF32ToF16, [x, out], grid1d(Math.ceil(x.size / CAST_WG)), [x.size], 'roundToF16');
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

/**
 * f16 copies of many f32 tensors in a few launches (k per launch, as many as the storage-binding
 * limit allows): the same bits as toF16 on each, no gradient recorded — for ops that route their
 * gradients to the f32 originals themselves (linearHalf's `w16`: a step's weights cast once).
 */
export function toF16Many(xs: readonly Tensor[]): Tensor[] {
  for (const x of xs) {
    assertLive('toF16Many', x);
    assertDtype('toF16Many', x, 'f32');
  }
  const out = xs.map((x) => empty(x.shape, 'f16', x.backend));
  const gpu = xs.map((x, i) => i).filter((i) => xs[i]!.backend === 'gpu' && xs[i]!.size > 0);
  for (const [i, x] of xs.entries()) {
    if (x.backend === 'cpu') (out[i]!.cpu as Float64Array).set(toF16Ref(x.cpu!));
  }
  for (const grp of chunks(gpu, slotsPerLaunch(2, 0))) {
    const ps: number[] = [];
    let e = 0;
    for (const i of grp) ps.push(xs[i]!.size, (e += Math.ceil(xs[i]!.size / 2)));
    launch(castF32ToF16Many(grp.length), grp.flatMap((i) => [xs[i]!, out[i]!]), grid1d(Math.ceil(e / CAST_WG)), ps, 'toF16Many');
  }
  return out;
}
