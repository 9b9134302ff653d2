import { f16Kernel, kernel } from '../kernel.ts';

// Writes one 32-bit pattern (f32, i32 or u32 bits, or an f16 value twice) into every word, four per
// invocation.
export const fillKernel = f16Kernel(kernel(
  'fill',
  /* wgsl */ `
struct P { n4: u32, bits: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> y: array<vec4<u32>>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 256u;
  if (i < p.n4) { y[i] = vec4<u32>(p.bits); }
}`,
  ['rw'],
));
