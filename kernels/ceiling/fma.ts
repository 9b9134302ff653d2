// Compute ceiling: each invocation runs CHAINS independent vec4 FMA chains (no loads or stores in
// the loop, so only the FMA units and the scheduler matter), then writes one value so the work
// cannot be optimised away. x ← x·a + b with |a| < 1 converges, so the result is checkable.
import { kernel, type Kernel } from '../kernel.ts';

export const FMA_WG = 64;

export function fmaCeiling(chains: number): Kernel {
  const init = Array.from({ length: chains }, (_, c) => `  var x${c} = vec4<f32>(f32(i) * 1e-7, ${c}.0, 0.5, -0.5);`).join('\n');
  const step = Array.from({ length: chains }, (_, c) => `    x${c} = fma(x${c}, va, vb);`).join('\n');
  const sum = Array.from({ length: chains }, (_, c) => `x${c}`).join(' + ');
  return kernel(
    `ceiling_fma_${chains}`,
    /* wgsl */ `
struct P { n: u32, iters: u32, a: f32, b: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(${FMA_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * ${FMA_WG}u;
  let va = vec4<f32>(p.a);
  let vb = vec4<f32>(p.b);
${init}
  for (var k = 0u; k < p.iters; k++) {
${step}
  }
  let s = ${sum};
  if (i < p.n) { y[i] = s.x + s.y + s.z + s.w; }
}`,
    ['rw'],
  );
}
