// IEEE binary16 (f16) on the host: bits ↔ numbers with round-to-nearest-even. f16 tensors are
// uploaded as these bits, read back through them, and the float64 reference stores f16 tensors as
// float64 values already rounded by roundF16, so both backends hold the same values.

const F16_MAX = 65504;
const f64 = new Float64Array(1);
const hi32 = new Uint32Array(f64.buffer, 4, 1); // little-endian: the sign/exponent word

/** f16 bits → its value (exact). */
export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24; // zero / subnormal
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Half-way cases go to the even neighbour; Math.round alone sends them up. */
function roundHalfEven(r: number): number {
  const f = Math.floor(r);
  const d = r - f; // exact: |r| < 2^12 here
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * The f16 value nearest to x (any float64, rounded once, ties to even): beyond the largest finite
 * f16 by half a step or more it is ±Inf, below half the smallest subnormal ±0, NaN stays NaN.
 */
export function roundF16(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  f64[0] = x;
  const e = ((hi32[0]! >>> 20) & 0x7ff) - 1023; // ⌊log2|x|⌋ for normal doubles; doubles this small round to 0 below
  const q = 2 ** (Math.max(e, -14) - 10); // the f16 step at |x|: 10 fraction bits, subnormal below 2^-14
  const r = roundHalfEven(x / q) * q; // x / q is exact (a power-of-two scaling)
  if (r === 0) return x < 0 ? -0 : 0;
  return Math.abs(r) > F16_MAX ? Math.sign(x) * Infinity : r;
}

/** Any number → f16 bits, round to nearest even (via roundF16); NaN becomes a quiet NaN. */
export function f32ToF16(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const r = roundF16(x);
  const sign = r < 0 || Object.is(r, -0) ? 0x8000 : 0;
  const a = Math.abs(r);
  if (a === Infinity) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | (a * 2 ** 24); // subnormal: an integer count of 2^-24
  f64[0] = a;
  const e = ((hi32[0]! >>> 20) & 0x7ff) - 1023;
  return sign | ((e + 15) << 10) | ((a / 2 ** e - 1) * 1024);
}

/** Host values → f16 bits, padded to whole 4-byte words (GPU buffers are written in words). */
export function packF16(values: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(values.length + (values.length & 1));
  for (let i = 0; i < values.length; i++) out[i] = f32ToF16(values[i]!);
  return out;
}

/** The first n f16 values of raw bits, as float32 (every f16 is exact in f32). */
export function unpackF16(bits: Uint16Array, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = f16ToF32(bits[i]!);
  return out;
}
