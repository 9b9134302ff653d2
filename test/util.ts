// Shared helpers for tests: fresh random non-zero inputs and random shapes.
import { expect } from 'vitest';
import { liveBytes, sync } from '../engine/index.ts';
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

/**
 * The memory check of op tests: `step` (work in a scope; gradients cleared) runs once to warm up
 * (gradients and buffers that live on), then `repeats` more times must leave the GPU's live bytes
 * where they were.
 */
export async function expectSteadyMemory(step: () => unknown, o: { warmup?: boolean; repeats?: number } = {}): Promise<void> {
  if (o.warmup ?? true) await step();
  await sync();
  const before = liveBytes();
  for (let i = 0; i < (o.repeats ?? 1); i++) await step();
  await sync();
  expect(liveBytes(), 'GPU bytes still live after the steps').toBe(before);
}
