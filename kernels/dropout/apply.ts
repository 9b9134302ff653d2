// Inverted dropout: y = x · keep(seed, i) / (1 − p). The same kernel is the backward (applied to
// the output gradient with the same seed, the mask is the same). Four vec4 per invocation.
import { kernel } from '../kernel.ts';
import { DROP_HASH } from './hash.ts';

export const DROPOUT_WG = 256;
export const DROPOUT_VPT = 4;

export const dropoutKernel = kernel(
  'dropout',
  /* wgsl */ `
struct P { n4: u32, seed: u32, thr: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<f32>>;
${DROP_HASH}
@compute @workgroup_size(${DROPOUT_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = gid.x + gid.y * nw.x * ${DROPOUT_WG}u;
  let stride = nw.x * nw.y * ${DROPOUT_WG}u;
  for (var j = 0u; j < ${DROPOUT_VPT}u; j++) {
    let i = t + j * stride;
    if (i < p.n4) {
      let e = i * 4u;
      let k = vec4<f32>(drop_keep(p.seed, e, p.thr), drop_keep(p.seed, e + 1u, p.thr),
                        drop_keep(p.seed, e + 2u, p.thr), drop_keep(p.seed, e + 3u, p.thr));
      y[i] = x[i] * k * p.scale;
    }
  }
}`,
  ['r', 'rw'],
);
