// Shared helpers for tests: fresh random non-zero inputs and random shapes.
import { rng, type Rng } from '../engine/random.ts';
import type { CheckInput } from '../engine/gradcheck.ts';

/** Random values in ±[lo, hi] (never zero), so a kernel that ignores an input cannot pass by luck. */
export function randData(r: Rng, n: number, lo = 0.1, hi = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = (r.uniform() < 0.5 ? -1 : 1) * (lo + (hi - lo) * r.uniform());
  return a;
}

export function input(r: Rng, shape: number[], lo = 0.1, hi = 1): CheckInput {
  return { shape, data: randData(r, shape.reduce((a, b) => a * b, 1), lo, hi) };
}

export function positive(r: Rng, shape: number[], lo = 0.5, hi = 2): CheckInput {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * r.uniform();
  return { shape, data };
}

/** A dimension that is usually not a multiple of common tile sizes. */
export function oddDim(r: Rng, max = 70): number {
  return 1 + r.int(max);
}

export { rng };
