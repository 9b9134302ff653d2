// The overflow check of dynamic loss scaling over up to k gradients per launch, laid end to end in
// one vec4 index space (slot s owns vec4s [e_{s−1}, e_s) and n_s elements):
//   flag ← 1 if any g is Inf or NaN         (exponent bits all ones; one atomic per offending lane)
//   g ← g · inv                             (the unscale, when `write`; inv = 1/S, a power of two)
// Lanes past n_s (the pooled buffer's slack, maybe NaN) are neither checked nor count. The flag is
// one u32 the caller zeroes before the first launch, so a whole model's gradients give one word.
import { kernel, type Access, type Kernel } from '../kernel.ts';

export const UNSCALE_WG = 256;

export function gradUnscale(k: number, write: boolean): Kernel {
  const slots = Array.from({ length: k }, (_, s) => s);
  const acc = write ? 'read_write' : 'read';
  const decl = slots.map((s) => `@group(0) @binding(${1 + s}) var<storage, ${acc}> g${s}: array<vec4<f32>>;`).join('\n');
  const body = slots
    .map(
      (s) => `${s ? 'else ' : ''}if (i < u.e${s}) {
      let q = i${s ? ` - u.e${s - 1}` : ''};
      let x = g${s}[q];
      bad = bad || nonFinite(x, q, u.n${s});${write ? `\n      g${s}[q] = x * u.inv;` : ''}
    }`,
    )
    .join(' ');
  return kernel(
    `grad_unscale_${k}${write ? '' : '_check'}`,
    /* wgsl */ `
struct P { inv: f32, ${slots.map((s) => `n${s}: u32, e${s}: u32`).join(', ')} }
@group(0) @binding(0) var<uniform> u: P;
${decl}
@group(0) @binding(${1 + k}) var<storage, read_write> flag: array<atomic<u32>>;
// Inf or NaN among the lanes of vec4 q that hold elements (< n)
fn nonFinite(x: vec4<f32>, q: u32, n: u32) -> bool {
  let e = vec4<u32>(q * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
  let special = (bitcast<vec4<u32>>(x) & vec4<u32>(0x7f800000u)) == vec4<u32>(0x7f800000u);
  return any(special & (e < vec4<u32>(n)));
}
@compute @workgroup_size(${UNSCALE_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = gid.x + gid.y * nw.x * ${UNSCALE_WG}u;
  let stride = nw.x * nw.y * ${UNSCALE_WG}u;
  var bad = false;
  for (var j = 0u; j < 4u; j++) {
    let i = t + j * stride;
    ${body}
  }
  if (bad) { atomicOr(&flag[0], 1u); }
}`,
    [...slots.map((): Access => (write ? 'rw' : 'r')), 'rw'],
  );
}
