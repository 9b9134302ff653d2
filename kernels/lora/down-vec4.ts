// LoRA down-projection for K % 4 = 0, RM rows × four ranks per invocation, K in vec4 steps:
//   t[m, j] = s · Σ_k keep(m·K + k) · x[m, k] · A[j, k],   s = (alpha/r) / (1 − p)
// On lavapipe every storage load runs lane by lane (bench/lavapipe-loads.ts: ≈ 1 ns per float, half
// that as vec4), so the one-row kernel (down.ts: a scalar x and four scalar A loads per k, 5 loads
// for 4 FMAs) is load-bound. Here a step loads RM vec4 of x and four vec4 of A for 16·RM FMAs, and
// each element's dropout hash is computed once. Rows past M and ranks past R are clamped for reads
// and not written.
import { kernel, memoKernel, type Kernel } from '../kernel.ts';
import { DROP_HASH } from '../dropout/hash.ts';

export const LORA_DOWN4_WG = 64;

export const loraDownVec4 = memoKernel(function loraDownVec4(drop: boolean, RM: number): Kernel {
  const rows = [...Array(RM).keys()];
  const keep = (i: number) =>
    drop ? `\n      xv${i} = xv${i} * vec4<f32>(drop_keep(p.seed, e${i}, p.thr), drop_keep(p.seed, e${i} + 1u, p.thr), drop_keep(p.seed, e${i} + 2u, p.thr), drop_keep(p.seed, e${i} + 3u, p.thr));` : '';
  return kernel(
    `lora_down_v4_r${RM}${drop ? '_drop' : ''}`,
    /* wgsl */ `
struct P { M: u32, K: u32, R: u32, seed: u32, thr: u32, s: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> t: array<f32>;
${DROP_HASH}
@compute @workgroup_size(${LORA_DOWN4_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let rb = (p.R + 3u) / 4u;
  let idx = gid.x + gid.y * nw.x * ${LORA_DOWN4_WG}u;
  if (idx >= ((p.M + ${RM - 1}u) / ${RM}u) * rb) { return; }
  let m0 = (idx / rb) * ${RM}u;
  let j0 = (idx % rb) * 4u;
  let k4 = p.K / 4u;
  let a0 = min(j0, p.R - 1u) * k4;
  let a1 = min(j0 + 1u, p.R - 1u) * k4;
  let a2 = min(j0 + 2u, p.R - 1u) * k4;
  let a3 = min(j0 + 3u, p.R - 1u) * k4;
${rows.map((i) => `  let x${i} = min(m0 + ${i}u, p.M - 1u) * k4;\n  var acc${i} = vec4<f32>(0.0);`).join('\n')}
  for (var k = 0u; k < k4; k++) {
    let av0 = a[a0 + k];
    let av1 = a[a1 + k];
    let av2 = a[a2 + k];
    let av3 = a[a3 + k];
${rows
  .map(
    (i) => `    {
      var xv${i} = x[x${i} + k];${drop ? `\n      let e${i} = (x${i} + k) * 4u;` : ''}${keep(i)}
      acc${i} += vec4<f32>(dot(xv${i}, av0), dot(xv${i}, av1), dot(xv${i}, av2), dot(xv${i}, av3));
    }`,
  )
  .join('\n')}
  }
${rows
  .map(
    (i) => `  if (m0 + ${i}u < p.M) {
    for (var jj = 0u; jj < 4u; jj++) {
      if (j0 + jj < p.R) { t[(m0 + ${i}u) * p.R + j0 + jj] = p.s * acc${i}[jj]; }
    }
  }`,
  )
  .join('\n')}
}`,
    ['r', 'r', 'rw'],
  );
});
