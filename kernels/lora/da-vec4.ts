// Gradient of the LoRA down-projection for K % 4 = 0, the rows in C chunks (every adapter thread
// gets a workgroup), four ranks × four columns per invocation:
//   part[c, j, k] = s · Σ_{m in chunk c} u[m, j] · keep(m·K + k) · x[m, k],   u = g·B [M, R]
//   dA[j, k] = Σ_c part[c, j, k]                                   (lora_da_sum; C = 1 writes dA)
// da.ts loads four scalar x and four scalar u per row for 16 FMAs and runs as one workgroup; here a
// row costs one vec4 of x and, with R % 4 = 0, one vec4 of u (on lavapipe loads run lane by lane,
// ≈ 1 ns per float, half that as vec4: bench/lavapipe-loads.ts). Ranks past R and columns past K are
// clamped for reads and not written.
import { kernel, memoKernel, type Kernel } from '../kernel.ts';
import { DROP_HASH } from '../dropout/hash.ts';

export const LORA_DA4_WG = 64;

/** Params: M, K, R, seed, thr, s, seg (rows per chunk), C (chunks). Output [C, R, K] (C = 1: dA). */
export const loraDaVec4 = memoKernel(function loraDaVec4(drop: boolean, uVec: boolean): Kernel {
  const load = uVec
    ? 'let uv = u[(m * p.R + j0) / 4u];'
    : 'let uv = vec4<f32>(u[m * p.R + r0], u[m * p.R + r1], u[m * p.R + r2], u[m * p.R + r3]);';
  return kernel(
    `lora_da_v4${uVec ? '_uv' : ''}${drop ? '_drop' : ''}`,
    /* wgsl */ `
struct P { M: u32, K: u32, R: u32, seed: u32, thr: u32, s: f32, seg: u32, C: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> u: array<${uVec ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> part: array<vec4<f32>>;
${DROP_HASH}
@compute @workgroup_size(${LORA_DA4_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let k4 = p.K / 4u;
  let rb = (p.R + 3u) / 4u;
  let idx = gid.x + gid.y * nw.x * ${LORA_DA4_WG}u;
  if (idx >= p.C * rb * k4) { return; }
  let c4 = idx % k4;
  let jb = (idx / k4) % rb;
  let ch = idx / (k4 * rb);
  let j0 = jb * 4u;
  let r0 = min(j0, p.R - 1u);
  let r1 = min(j0 + 1u, p.R - 1u);
  let r2 = min(j0 + 2u, p.R - 1u);
  let r3 = min(j0 + 3u, p.R - 1u);
  let m1 = min(ch * p.seg + p.seg, p.M);
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var m = ch * p.seg; m < m1; m++) {
    var xv = x[m * k4 + c4];${
      drop
        ? `
    let e = (m * k4 + c4) * 4u;
    xv = xv * vec4<f32>(drop_keep(p.seed, e, p.thr), drop_keep(p.seed, e + 1u, p.thr), drop_keep(p.seed, e + 2u, p.thr), drop_keep(p.seed, e + 3u, p.thr));`
        : ''
    }
    ${load}
    acc0 = fma(vec4<f32>(uv.x), xv, acc0);
    acc1 = fma(vec4<f32>(uv.y), xv, acc1);
    acc2 = fma(vec4<f32>(uv.z), xv, acc2);
    acc3 = fma(vec4<f32>(uv.w), xv, acc3);
  }
  let o = (ch * p.R + j0) * k4 + c4;
  part[o] = p.s * acc0;
  if (j0 + 1u < p.R) { part[o + k4] = p.s * acc1; }
  if (j0 + 2u < p.R) { part[o + 2u * k4] = p.s * acc2; }
  if (j0 + 3u < p.R) { part[o + 3u * k4] = p.s * acc3; }
}`,
    ['r', 'r', 'rw'],
  );
});

/** dA[i] = Σ_c part[c·n + i] over vec4 i < n (n = R·K / 4). Params: n, C. */
export const loraDaSum = kernel(
  'lora_da_sum',
  /* wgsl */ `
struct P { n: u32, C: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> part: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> da: array<vec4<f32>>;
@compute @workgroup_size(${LORA_DA4_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * ${LORA_DA4_WG}u;
  if (i >= p.n) { return; }
  var acc = part[i];
  for (var c = 1u; c < p.C; c++) { acc += part[c * p.n + i]; }
  da[i] = acc;
}`,
  ['r', 'rw'],
);
