// LoRA down-projection with dropout fused into the loads:
//   t[m, j] = s · Σ_k keep(m·K + k) · x[m, k] · A[j, k],   s = (alpha/r) / (1 − p)
// x [M, K], A [R, K], t [M, R]. R is small (4–64): each invocation owns one row and four ranks.
import { kernel, type Kernel } from '../kernel.ts';
import { DROP_HASH } from '../dropout/hash.ts';

export const LORA_DOWN_WG = 64;

export function loraDown(drop: boolean): Kernel {
  return kernel(
    `lora_down${drop ? '_drop' : ''}`,
    /* wgsl */ `
struct P { M: u32, K: u32, R: u32, seed: u32, thr: u32, s: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read_write> t: array<f32>;
${DROP_HASH}
@compute @workgroup_size(${LORA_DOWN_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let rb = (p.R + 3u) / 4u;
  let idx = gid.x + gid.y * nw.x * ${LORA_DOWN_WG}u;
  if (idx >= p.M * rb) { return; }
  let m = idx / rb;
  let j0 = (idx % rb) * 4u;
  // rows of A past R are clamped (their results are not written)
  let a0 = min(j0, p.R - 1u) * p.K;
  let a1 = min(j0 + 1u, p.R - 1u) * p.K;
  let a2 = min(j0 + 2u, p.R - 1u) * p.K;
  let a3 = min(j0 + 3u, p.R - 1u) * p.K;
  var acc = vec4<f32>(0.0);
  let xb = m * p.K;
  for (var k = 0u; k < p.K; k++) {
    var xv = x[xb + k];
    ${drop ? 'xv = xv * drop_keep(p.seed, xb + k, p.thr);' : ''}
    acc = fma(vec4<f32>(xv), vec4<f32>(a[a0 + k], a[a1 + k], a[a2 + k], a[a3 + k]), acc);
  }
  for (var jj = 0u; jj < 4u; jj++) {
    if (j0 + jj < p.R) { t[m * p.R + j0 + jj] = p.s * acc[jj]; }
  }
}`,
    ['r', 'r', 'rw'],
  );
}
