// Float64 twin of kernels/dropout/hash.ts + apply.ts: the same integer hash in JS (Math.imul, >>>),
// so the reference drops exactly the elements the GPU drops.
export function pcgHash(v: number): number {
  const s = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const w = Math.imul(((s >>> ((s >>> 28) + 4)) ^ s) >>> 0, 277803737) >>> 0;
  return ((w >>> 22) ^ w) >>> 0;
}

/** thr = ceil(p·2^24): an element is kept iff its 24-bit uniform is ≥ thr (exact on both sides). */
export function dropThreshold(p: number): number {
  return p >= 1 ? 2 ** 24 : Math.ceil(p * 2 ** 24);
}

/** 1 if element e survives, else 0. */
export function dropKeep(seed: number, e: number, thr: number): number {
  const h = (pcgHash((pcgHash(seed >>> 0) + (e >>> 0)) >>> 0) ^ (seed >>> 0)) >>> 0;
  return pcgHash(h) >>> 8 >= thr ? 1 : 0;
}

/** Inverted-dropout scale 1/(1 − p) (0 when everything is dropped). */
export function dropScale(p: number): number {
  return p >= 1 ? 0 : 1 / (1 - p);
}

/** y[i] = x[i] · keep(seed, i) / (1 − p). */
export function dropoutRef(x: ArrayLike<number>, p: number, seed: number): Float64Array {
  const thr = dropThreshold(p);
  const s = dropScale(p);
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i]! * dropKeep(seed, i, thr) * s;
  return y;
}
