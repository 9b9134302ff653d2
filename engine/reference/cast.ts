// Float64 reference of the f16 casts: an f16 output holds the float64 value rounded to f16 (nearest
// even), as the GPU stores it; a widening cast is exact, so it copies.
//
// Finite differences see rounding as a step function (derivative 0, or a jump of one f16 step over
// eps), while a cast's gradient is defined as the identity carried back to the input's dtype, as in
// every mixed-precision trainer. gradcheck therefore differentiates the function with f16 rounding
// relaxed to the identity (withF16Relaxed); gpucheck compares the GPU against the rounded reference.
import { roundF16 } from '../half.ts';

let relaxed = false;

/** Runs fn with the reference's f16 outputs left unrounded (gradcheck's finite differences). */
export function withF16Relaxed<T>(fn: () => T): T {
  const prev = relaxed;
  relaxed = true;
  try {
    return fn();
  } finally {
    relaxed = prev;
  }
}

/** The values an f16 output of the reference holds. */
export function toF16Ref(x: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(x);
  if (!relaxed) for (let i = 0; i < out.length; i++) out[i] = roundF16(out[i]!);
  return out;
}
