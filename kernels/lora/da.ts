// Gradient of the LoRA down-projection with the dropout mask fused into the loads of x:
//   dA[j, k] = s · Σ_m u[m, j] · keep(m·K + k) · x[m, k],   u = g·B [M, R], x [M, K], dA [R, K]
// 4×4 register tile per invocation (ranks × columns), looping over the M rows.
import { kernel, type Kernel } from '../kernel.ts';
import { DROP_HASH } from '../dropout/hash.ts';

export const LORA_DA_WG = [16, 4] as const;

export function loraDa(drop: boolean): Kernel {
  return kernel(
    `lora_da${drop ? '_drop' : ''}`,
    /* wgsl */ `
struct P { M: u32, K: u32, R: u32, seed: u32, thr: u32, s: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> u: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> da: array<f32>;
${DROP_HASH}
@compute @workgroup_size(${LORA_DA_WG[0]}, ${LORA_DA_WG[1]})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (j0 >= p.R || col0 >= p.K) { return; }
  var jj: array<u32, 4>;
  var cc: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) { jj[i] = min(j0 + i, p.R - 1u); cc[i] = min(col0 + i, p.K - 1u); }
  var acc: array<vec4<f32>, 4>;
  for (var m = 0u; m < p.M; m++) {
    let xb = m * p.K;
    var xv = vec4<f32>(x[xb + cc[0]], x[xb + cc[1]], x[xb + cc[2]], x[xb + cc[3]]);
    ${drop ? 'xv = xv * vec4<f32>(drop_keep(p.seed, xb + cc[0], p.thr), drop_keep(p.seed, xb + cc[1], p.thr), drop_keep(p.seed, xb + cc[2], p.thr), drop_keep(p.seed, xb + cc[3], p.thr));' : ''}
    for (var i = 0u; i < 4u; i++) { acc[i] = fma(vec4<f32>(u[m * p.R + jj[i]]), xv, acc[i]); }
  }
  for (var i = 0u; i < 4u; i++) {
    let j = j0 + i;
    if (j >= p.R) { break; }
    for (var c = 0u; c < 4u; c++) {
      if (col0 + c < p.K) { da[j * p.K + col0 + c] = p.s * acc[i][c]; }
    }
  }
}`,
    ['r', 'r', 'rw'],
  );
}
