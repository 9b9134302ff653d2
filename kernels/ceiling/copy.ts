// Bandwidth ceiling: y = x over vec4s, VPT vec4 per invocation, grid-stride so neighbouring
// invocations touch neighbouring memory.
import { kernel, type Kernel } from '../kernel.ts';

export const COPY_WG = 256;

export function copyCeiling(vpt: number): Kernel {
  return kernel(
    `ceiling_copy_${vpt}`,
    /* wgsl */ `
struct P { n4: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<f32>>;
@compute @workgroup_size(${COPY_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = gid.x + gid.y * nw.x * ${COPY_WG}u;
  let stride = nw.x * nw.y * ${COPY_WG}u;
  for (var j = 0u; j < ${vpt}u; j++) {
    let i = t + j * stride;
    if (i < p.n4) { y[i] = x[i]; }
  }
}`,
    ['r', 'rw'],
  );
}
