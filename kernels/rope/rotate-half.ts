// Rotary position embeddings, Llama/HF "rotate_half" convention: for each head vector of length Dh
// the pairs (i, i + Dh/2), i < Dh/2, are rotated by the angle a = pos · θ^(−2i/Dh):
//   y[i]        = x[i]·cos a − x[i + Dh/2]·sin a
//   y[i + Dh/2] = x[i + Dh/2]·cos a + x[i]·sin a
// sign = −1 rotates by −a (the backward). One invocation per (token, vec4 of pairs) when
// Dh/2 % 4 == 0, else per (token, pair): it forms the angle's cos and sin once and rotates that
// pair in every head of the token (the angle depends on the token and the pair, not the head; on
// lavapipe exp2, sin and cos are most of a rope's cost). The angle is range-reduced to [−π, π] (Cody–Waite, 2π = C1 + C2
// with C1 exact in 8 bits) because GPU sin/cos are only accurate near zero.
import { kernel, type Kernel, memoKernel } from '../kernel.ts';

export const ROPE_WG = 64;

export const ropeKernel = memoKernel(function ropeKernel(vec: boolean): Kernel {
  const L = vec ? 4 : 1;
  const V = vec ? 'vec4<f32>' : 'f32';
  const lanes = vec ? 'vec4<f32>(0.0, 1.0, 2.0, 3.0)' : '0.0';
  return kernel(
    `rope_${vec ? 'v4' : 's'}`,
    /* wgsl */ `
struct P { n: u32, heads: u32, hv: u32, log2theta: f32, dh: u32, sign: f32 } // n = tokens · hv
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<${V}>;
@group(0) @binding(2) var<storage, read> pos: array<i32>;
@group(0) @binding(3) var<storage, read_write> y: array<${V}>;
@compute @workgroup_size(${ROPE_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let idx = gid.x + gid.y * nw.x * ${ROPE_WG}u;
  if (idx >= p.n) { return; }
  let q = idx % p.hv;          // which V of the first half
  let token = idx / p.hv;
  let i = ${V}(f32(q * ${L}u)) + ${lanes};
  let invFreq = exp2(-2.0 * i / f32(p.dh) * p.log2theta);
  let a = f32(pos[token]) * invFreq;
  let k = round(a * 0.15915494309189535);
  let red = (a - k * 6.28125) - k * 0.0019353071795864769;
  let c = cos(red);
  let s = sin(red) * p.sign;
  for (var h = 0u; h < p.heads; h++) {
    let lo = (token * p.heads + h) * 2u * p.hv + q;
    let hi = lo + p.hv;
    let x0 = x[lo];
    let x1 = x[hi];
    y[lo] = x0 * c - x1 * s;
    y[hi] = x1 * c + x0 * s;
  }
}`,
    ['r', 'r', 'rw'],
  );
});
