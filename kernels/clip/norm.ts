// Global gradient norm without a host readback, in three kernels:
//   clip_sumsq_k:   per-workgroup partial Σ g² over up to k gradients laid end to end (slot s owns
//                   workgroups [w_{s−1}, w_s)); lanes past n are masked out
//   clip_finalize:  one workgroup sums the partials: norm = √Σ, coef = min(1, maxNorm/(norm + 1e-6))
//   clip_scale_k:   g ← coef · g in place
// The two reductions sum in a fixed order: CLIP_WG = 256 lane sums, then a pairwise tree
// (lane l += lane l + s for s = 128, 64, …, 1). A workgroup of CLIP_THREADS = 32 invocations
// computes exactly that: invocation t holds the lane sums of lanes t + 32·m (m < 8), folds the
// tree's first three levels (s = 128, 64, 32) in registers, where both operands are its own, and
// only the last five through workgroup memory. Same additions in the same order, so the same bits
// as 256 invocations with nine barrier levels; on lavapipe a barrier suspends and resumes every
// 8-wide chunk, so 5 levels × 4 chunks replace 9 levels × 32.
import { kernel, type Access, type Kernel, memoKernel } from '../kernel.ts';

export const CLIP_WG = 256; // lane sums per workgroup: the reduction's shape (elements per workgroup = CLIP_WG·CLIP_VPT·4)
export const CLIP_VPT = 4; // vec4 per lane sum in the partial sums: 4096 elements per workgroup
const CLIP_THREADS = 32; // invocations per reducing workgroup
const HELD = CLIP_WG / CLIP_THREADS; // lane sums each invocation holds (8)

const regs = Array.from({ length: HELD }, (_, m) => m);

/** The tree's levels s = CLIP_WG/2 … CLIP_THREADS in registers: a_m += a_{m + s/32} for m < s/32. */
const REG_TREE = (() => {
  const out: string[] = [];
  for (let h = HELD / 2; h >= 1; h >>= 1) for (let m = 0; m < h; m++) out.push(`a${m} = a${m} + a${m + h};`);
  return out.join(' ');
})();

/** The tree's last levels s = CLIP_THREADS/2 … 1 through workgroup memory (red[t] holds lane t's sum). */
const MEM_TREE = (arr: string, lid: string) => `
  workgroupBarrier();
  for (var s = ${CLIP_THREADS / 2}u; s > 0u; s = s >> 1u) {
    if (${lid} < s) { ${arr}[${lid}] = ${arr}[${lid}] + ${arr}[${lid} + s]; }
    workgroupBarrier();
  }`;

export const clipSumsq = memoKernel(function clipSumsq(k: number): Kernel {
  const slots = Array.from({ length: k }, (_, s) => s);
  const decl = slots.map((s) => `@group(0) @binding(${1 + s}) var<storage, read> g${s}: array<vec4<f32>>;`).join('\n');
  // lane l's sum of slot s: Σ_j |g[(c·VPT + j)·WG + l]|², j in order
  const laneFns = slots
    .map(
      (s) => `fn lane${s}(c: u32, l: u32) -> f32 {
  var acc = 0.0;
  for (var j = 0u; j < ${CLIP_VPT}u; j++) {
    let q = (c * ${CLIP_VPT}u + j) * ${CLIP_WG}u + l;
    if (q * 4u < u.n${s}) { let x = lanes(g${s}[q], q, u.n${s}); acc += dot(x, x); }
  }
  return acc;
}`,
    )
    .join('\n');
  const body = slots
    .map(
      (s) => `${s ? 'else ' : ''}if (wid < u.w${s}) {
    let c = wid${s ? ` - u.w${s - 1}` : ''};
    ${regs.map((m) => `a${m} = lane${s}(c, lid + ${m * CLIP_THREADS}u);`).join(' ')}
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
var<workgroup> red: array<f32, ${CLIP_THREADS}>;
// the lanes of vec4 q that hold elements (< n); the slack past the end (maybe NaN) reads as 0
fn lanes(x: vec4<f32>, q: u32, n: u32) -> vec4<f32> {
  let e = vec4<u32>(q * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
  return select(vec4<f32>(0.0), x, e < vec4<u32>(n));
}
${laneFns}
@compute @workgroup_size(${CLIP_THREADS})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nw: vec3<u32>) {
  let wid = wg.x + wg.y * nw.x;
  ${regs.map((m) => `var a${m} = 0.0;`).join(' ')}
  if (wid < u.w${k - 1}) {
  ${body}
  }
  ${REG_TREE}
  red[lid] = a0;
  ${MEM_TREE('red', 'lid')}
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
var<workgroup> red: array<f32, ${CLIP_THREADS}>;
// lane l's sum: part[l] + part[l + WG] + …, in order
fn lane(l: u32) -> f32 {
  var acc = 0.0;
  for (var i = l; i < u.count; i += ${CLIP_WG}u) { acc += part[i]; }
  return acc;
}
@compute @workgroup_size(${CLIP_THREADS})
fn main(@builtin(local_invocation_index) lid: u32) {
  ${regs.map((m) => `var a${m} = lane(lid + ${m * CLIP_THREADS}u);`).join(' ')}
  ${REG_TREE}
  red[lid] = a0;
  ${MEM_TREE('red', 'lid')}
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
