// Casts between f32 and f16 storage, done on the bits with integer operations: WGSL leaves the
// rounding of a float conversion to the implementation (up or down) and GPUs may flush f16
// subnormals, while these give round-to-nearest-even, overflow to ±Inf, exact subnormals and quiet
// NaNs on every adapter, the same values as engine/half.ts on the host. Packed words (two f16 per
// u32, element 2i in the low half) need no shader-f16 feature.
import { f16Kernel, kernel, memoKernel } from '../kernel.ts';

export const CAST_WG = 256;

/** WGSL: f32 bits → f16 bits (in the low 16 bits), round to nearest even. */
export const F32_TO_F16_BITS = /* wgsl */ `
fn f32ToF16Bits(b: u32) -> u32 {
  let sign = (b >> 16u) & 0x8000u;
  let e = i32((b >> 23u) & 0xffu);
  let m = b & 0x7fffffu;
  if (e == 255) { return sign | 0x7c00u | select(0u, 0x200u, m != 0u); }
  let ue = e - 112; // rebias 127 → 15
  if (ue >= 31) { return sign | 0x7c00u; }
  if (ue <= 0) {
    if (ue < -10) { return sign; } // below half the smallest subnormal
    let mm = m | 0x800000u; // the implicit bit
    let shift = u32(14 - ue);
    var r = mm >> shift;
    let rem = mm & ((1u << shift) - 1u);
    let half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (r & 1u) == 1u)) { r += 1u; }
    return sign | r;
  }
  var r = (u32(ue) << 10u) | (m >> 13u);
  let rem = m & 0x1fffu;
  // a carry out of the mantissa bumps the exponent, up to Inf: that is the correct rounding
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1u) == 1u)) { r += 1u; }
  return sign | r;
}`;

/** WGSL: f16 bits (low 16 bits) → f32 bits, exact; subnormals are normalised with integer shifts. */
export const F16_TO_F32_BITS = /* wgsl */ `
fn f16ToF32Bits(h: u32) -> u32 {
  let sign = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 0x1fu;
  let m = h & 0x3ffu;
  if (e == 31u) { return sign | 0x7f800000u | (m << 13u); }
  if (e == 0u) {
    if (m == 0u) { return sign; }
    let p = firstLeadingBit(m); // m·2^-24 = 2^(p-24)·(m / 2^p)
    return sign | ((p + 103u) << 23u) | ((m << (23u - p)) & 0x7fffffu);
  }
  return sign | ((e + 112u) << 23u) | (m << 13u);
}`;

/** y (f16, packed) = x (f32); one output word (two elements) per invocation; p.n = element count. */
export const castF32ToF16 = f16Kernel(
  kernel(
    'cast_f32_to_f16',
    /* wgsl */ `
struct P { n: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<u32>;
${F32_TO_F16_BITS}
@compute @workgroup_size(${CAST_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let w = gid.x + gid.y * nw.x * ${CAST_WG}u;
  let i = 2u * w;
  if (i >= p.n) { return; }
  let lo = f32ToF16Bits(x[i]);
  let hi = select(0u, f32ToF16Bits(x[i + 1u]), i + 1u < p.n);
  y[w] = lo | (hi << 16u);
}`,
    ['r', 'rw'],
  ),
);

/** y (f32) = x (f16, packed); one input word (two elements) per invocation. */
export const castF16ToF32 = f16Kernel(
  kernel(
    'cast_f16_to_f32',
    /* wgsl */ `
struct P { n: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<u32>;
${F16_TO_F32_BITS}
@compute @workgroup_size(${CAST_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let w = gid.x + gid.y * nw.x * ${CAST_WG}u;
  let i = 2u * w;
  if (i >= p.n) { return; }
  let v = x[w];
  y[i] = f16ToF32Bits(v & 0xffffu);
  if (i + 1u < p.n) { y[i + 1u] = f16ToF32Bits(v >> 16u); }
}`,
    ['r', 'rw'],
  ),
);

/** y (f32) = x (f32) rounded to f16 and widened back, one element per invocation: the bits of
 * castF16ToF32(castF32ToF16(x)) in one pass and without the f16 copy (an f16 product that runs on
 * widened operands reads this directly). */
export const roundF32ToF16 = kernel(
  'round_f32_to_f16',
  /* wgsl */ `
struct P { n: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<u32>;
${F32_TO_F16_BITS}
${F16_TO_F32_BITS}
@compute @workgroup_size(${CAST_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * ${CAST_WG}u;
  if (i >= p.n) { return; }
  y[i] = f16ToF32Bits(f32ToF16Bits(x[i]));
}`,
  ['r', 'rw'],
);

/** Up to `k` casts f32 → f16 in one launch: slot s binds x_s, y_s; the slots' output words lie end to
 * end in one index space (p.e_s = end of slot s in words, p.n_s = its element count). The same bits as
 * castF32ToF16 on each. */
export const castF32ToF16Many = memoKernel(function castF32ToF16Many(k: number) {
  const slots = Array.from({ length: k }, (_, s) => s);
  const decl = slots
    .map((s) => `@group(0) @binding(${1 + 2 * s}) var<storage, read> x${s}: array<u32>;\n@group(0) @binding(${2 + 2 * s}) var<storage, read_write> y${s}: array<u32>;`)
    .join('\n');
  const body = slots
    .map(
      (s) => `${s ? 'else ' : ''}if (w < p.e${s}) {
    let q = w${s ? ` - p.e${s - 1}` : ''};
    let i = 2u * q;
    let lo = f32ToF16Bits(x${s}[i]);
    let hi = select(0u, f32ToF16Bits(x${s}[min(i + 1u, p.n${s} - 1u)]), i + 1u < p.n${s});
    y${s}[q] = lo | (hi << 16u);
  }`,
    )
    .join(' ');
  return f16Kernel(
    kernel(
      `cast_f32_to_f16_many_${k}`,
      /* wgsl */ `
struct P { ${slots.map((s) => `n${s}: u32, e${s}: u32`).join(', ')} }
@group(0) @binding(0) var<uniform> p: P;
${decl}
${F32_TO_F16_BITS}
@compute @workgroup_size(${CAST_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let w = gid.x + gid.y * nw.x * ${CAST_WG}u;
  ${body}
}`,
      slots.flatMap(() => ['r', 'rw'] as const),
    ),
  );
});
