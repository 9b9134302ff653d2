// Materialising permute: out[i] = x[Σ_d coord_d(i) · xs_d], where xs are the input strides taken in
// output-axis order. Bits are copied as u32, so it serves f32, i32 and u32 tensors alike.
import { kernel, type Kernel } from '../kernel.ts';

export const PERMUTE_WG = 256;
export const PERMUTE_MAX_RANK = 8;

export const permuteKernel: Kernel = kernel(
  'permute',
  /* wgsl */ `
struct P { n: u32, rank: u32, _a: u32, _b: u32, shape: array<vec4<u32>, 2>, xs: array<vec4<u32>, 2> }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<u32>;
@compute @workgroup_size(${PERMUTE_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * ${PERMUTE_WG}u;
  if (i >= p.n) { return; }
  var rem = i;
  var src = 0u;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let dim = p.shape[d / 4][d % 4];
    src += (rem % dim) * p.xs[d / 4][d % 4];
    rem = rem / dim;
  }
  y[i] = x[src];
}`,
  ['r', 'rw'],
);
