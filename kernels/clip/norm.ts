// Global gradient norm without a host readback, in three kernels:
//   clip_sumsq_k:   per-workgroup partial Σ g² over up to k gradients laid end to end (slot s owns
//                   workgroups [w_{s−1}, w_s)); lanes past n are masked out
//   clip_finalize:  one workgroup sums the partials: norm = √Σ, coef = min(1, maxNorm/(norm + 1e-6))
//   clip_scale_k:   g ← coef · g in place
import { kernel, type Access, type Kernel, memoKernel } from '../kernel.ts';

export const CLIP_WG = 256;
export const CLIP_VPT = 4; // vec4 per invocation in the partial sums: 4096 elements per workgroup

const TREE = (arr: string, lid: string) => `
  workgroupBarrier();
  for (var s = ${CLIP_WG / 2}u; s > 0u; s = s >> 1u) {
    if (${lid} < s) { ${arr}[${lid}] = ${arr}[${lid}] + ${arr}[${lid} + s]; }
    workgroupBarrier();
  }`;

export const clipSumsq = memoKernel(function clipSumsq(k: number): Kernel {
  const slots = Array.from({ length: k }, (_, s) => s);
  const decl = slots.map((s) => `@group(0) @binding(${1 + s}) var<storage, read> g${s}: array<vec4<f32>>;`).join('\n');
  const body = slots
    .map(
      (s) => `${s ? 'else ' : ''}if (wid < u.w${s}) {
    let c = wid${s ? ` - u.w${s - 1}` : ''};
    for (var j = 0u; j < ${CLIP_VPT}u; j++) {
      let q = (c * ${CLIP_VPT}u + j) * ${CLIP_WG}u + lid;
      if (q * 4u < u.n${s}) { let x = lanes(g${s}[q], q, u.n${s}); acc += dot(x, x); }
    }
  }`,
    )
    .join(' ');
  return kernel(
    `clip_sumsq_${k}`,
    /* wgsl */ `
struct P { base: u32, ${slots.map((s) => `n${s}: u32, w${s}: u32`).join(', ')} }
@group(0) @binding(0) var<uniform> u: P;
${decl}
@group(0) @binding(${1 + k}) var<storage, read_write> part: array<f32>;
var<workgroup> red: array<f32, ${CLIP_WG}>;
// the lanes of vec4 q that hold elements (< n); the slack past the end (maybe NaN) reads as 0
fn lanes(x: vec4<f32>, q: u32, n: u32) -> vec4<f32> {
  let e = vec4<u32>(q * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
  return select(vec4<f32>(0.0), x, e < vec4<u32>(n));
}
@compute @workgroup_size(${CLIP_WG})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nw: vec3<u32>) {
  let wid = wg.x + wg.y * nw.x;
  var acc = 0.0;
  if (wid < u.w${k - 1}) {
  ${body}
  }
  red[lid] = acc;
  ${TREE('red', 'lid')}
  if (lid == 0u && wid < u.w${k - 1}) { part[u.base + wid] = red[0]; }
}`,
    [...slots.map((): Access => 'r'), 'rw'],
  );
});

export const clipFinalize = kernel(
  'clip_finalize',
  /* wgsl */ `
struct P { count: u32, maxNorm: f32 }
@group(0) @binding(0) var<uniform> u: P;
@group(0) @binding(1) var<storage, read> part: array<f32>;
@group(0) @binding(2) var<storage, read_write> norm: array<f32>;
@group(0) @binding(3) var<storage, read_write> coef: array<f32>;
var<workgroup> red: array<f32, ${CLIP_WG}>;
@compute @workgroup_size(${CLIP_WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var i = lid; i < u.count; i += ${CLIP_WG}u) { acc += part[i]; }
  red[lid] = acc;
  ${TREE('red', 'lid')}
  if (lid == 0u) {
    let n = sqrt(red[0]);
    norm[0] = n;
    coef[0] = min(1.0, u.maxNorm / (n + 1e-6));
  }
}`,
  ['r', 'rw', 'rw'],
);

export const clipScale = memoKernel(function clipScale(k: number): Kernel {
  const slots = Array.from({ length: k }, (_, s) => s);
  const decl = slots.map((s) => `@group(0) @binding(${1 + s}) var<storage, read_write> g${s}: array<vec4<f32>>;`).join('\n');
  const body = slots
    .map((s) => `${s ? 'else ' : ''}if (i < u.e${s}) { let q = i${s ? ` - u.e${s - 1}` : ''}; g${s}[q] = g${s}[q] * c; }`)
    .join(' ');
  return kernel(
    `clip_scale_${k}`,
    /* wgsl */ `
struct P { ${slots.map((s) => `e${s}: u32`).join(', ')} }
@group(0) @binding(0) var<uniform> u: P;
${decl}
@group(0) @binding(${1 + k}) var<storage, read> coef: array<f32>;
@compute @workgroup_size(${CLIP_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let c = coef[0];
  let t = gid.x + gid.y * nw.x * ${CLIP_WG}u;
  let stride = nw.x * nw.y * ${CLIP_WG}u;
  for (var j = 0u; j < 4u; j++) {
    let i = t + j * stride;
    ${body}
  }
}`,
    [...slots.map((): Access => 'rw'), 'r'],
  );
});
