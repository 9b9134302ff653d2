// Host inputs shared by every system in a run: generated once per (name, shape) from a seeded
// generator, fresh non-zero values in ±[0.1, 1] so a kernel that ignores an input cannot match.
import { rng } from '../engine/random.ts';

const cache = new Map<string, Float32Array>();
let seq = 1;
const seeds = new Map<string, number>();

/** The f32 host array for `name` at `shape` (same object for every caller in this process). */
export function hostInput(name: string, shape: readonly number[], lo = 0.1, hi = 1): Float32Array {
  const key = `${name}[${shape.join('x')}]`;
  let a = cache.get(key);
  if (a) return a;
  let seed = seeds.get(key);
  if (seed === undefined) seeds.set(key, (seed = 0x5eed + 7919 * seq++));
  const r = rng(seed);
  const n = shape.reduce((x, y) => x * y, 1);
  a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (r.uniform() < 0.5 ? -1 : 1) * (lo + (hi - lo) * r.uniform());
  cache.set(key, a);
  return a;
}

/** Positive values in [lo, hi] (second moments, variances). */
export function hostPositive(name: string, shape: readonly number[], lo = 0.1, hi = 1): Float32Array {
  const key = `${name}+[${shape.join('x')}]`;
  let a = cache.get(key);
  if (a) return a;
  a = hostInput(name + '+', shape, lo, hi).map(Math.abs);
  cache.set(key, a);
  return a;
}

/** Integer labels in [0, k). */
export function hostLabels(name: string, n: number, k: number): Int32Array {
  const r = rng(0x1abe1 + n * 31 + k + name.length);
  return Int32Array.from({ length: n }, () => r.int(k));
}

/** Memoises expensive float64 references per key (computed once, shared by all systems). */
const refs = new Map<string, unknown>();
export function memoRef<T>(key: string, f: () => T): T {
  if (!refs.has(key)) refs.set(key, f());
  return refs.get(key) as T;
}

/** Drops cached inputs/references (between families, to bound host memory). */
export function clearInputs(): void {
  cache.clear();
  refs.clear();
}
