// Three-token soft-label cross-entropy (paper eqs. 2–3), fused: the three label logits are gathered,
// soft-maxed and scored in one kernel; the backward kernel writes the whole [B, V] gradient, which is
// zero outside the three label columns. Math and conventions: engine/losses/ce3.ts.
import { kernel } from '../kernel.ts';

export const CE3_WG = 256;
export const CE3_BWD_VPT = 4; // vec4 per invocation in the backward kernel

// Shared WGSL: log p̂ over the three gathered logits (max-shifted, so |z| ~ 1e4 stays finite) and
// the target t = α·onehot(hard) + (1−α)·soft (t = onehot when there is no soft triple).
const ROW_MATH = /* wgsl */ `
fn logProbs(z: vec3<f32>) -> vec3<f32> {
  let m = max(z.x, max(z.y, z.z));
  let e = exp(z - vec3<f32>(m));
  return (z - vec3<f32>(m)) - vec3<f32>(log(e.x + e.y + e.z)); // z − m is exact; m + log Σ would round
}
fn tgt(i: u32) -> vec3<f32> {
  let h = hard[i];
  // an out-of-range hard label poisons the row instead of silently scoring class 0
  if (h < 0 || h > 2) { var nanBits = 0x7fc00000u; return vec3<f32>(bitcast<f32>(nanBits)); }
  let oh = vec3<f32>(select(0.0, 1.0, h == 0), select(0.0, 1.0, h == 1), select(0.0, 1.0, h == 2));
  if (p.hasSoft == 0u) { return oh; }
  let s = vec3<f32>(soft[3u * i], soft[3u * i + 1u], soft[3u * i + 2u]);
  return p.alpha * oh + (1.0 - p.alpha) * s;
}
fn gather(i: u32) -> vec3<f32> {
  let b = i * p.V;
  return vec3<f32>(logits[b + p.id0], logits[b + p.id1], logits[b + p.id2]);
}
fn weight(i: u32) -> f32 { return select(1.0, w[i], p.hasW == 1u); }
`;

const HEAD = (out: string) => /* wgsl */ `
struct P { B: u32, V: u32, id0: u32, id1: u32, id2: u32, hasSoft: u32, hasW: u32, gPerRow: u32, alpha: f32, scale: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> hard: array<i32>;
@group(0) @binding(3) var<storage, read> soft: array<f32>;
@group(0) @binding(4) var<storage, read> w: array<f32>;
${out}
${ROW_MATH}`;

/** Per-row losses ℓ_i = −w_i·Σ_k t_ik·log p̂_ik and their total·scale, in one workgroup. */
export const ce3Forward = kernel(
  'ce3_fwd',
  HEAD(/* wgsl */ `
@group(0) @binding(5) var<storage, read_write> loss: array<f32>;
@group(0) @binding(6) var<storage, read_write> total: array<f32>;`) +
    /* wgsl */ `
var<workgroup> part: array<f32, ${CE3_WG}>;
@compute @workgroup_size(${CE3_WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var i = lid; i < p.B; i += ${CE3_WG}u) {
    let l = -weight(i) * dot(tgt(i), logProbs(gather(i)));
    loss[i] = l;
    acc += l;
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = ${CE3_WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { part[lid] += part[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { total[0] = part[0] * p.scale; }
}`,
  ['r', 'r', 'r', 'r', 'rw', 'rw'],
);

/** dlogits over the flat [B·V] array as vec4: g_i·w_i·(p̂_k·Σt − t_k) in label column k, 0 elsewhere. */
export const ce3Backward = kernel(
  'ce3_bwd',
  HEAD(/* wgsl */ `
@group(0) @binding(5) var<storage, read> g: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<vec4<f32>>;`) +
    /* wgsl */ `
fn gradAt(row: u32, col: u32) -> f32 {
  var k = 3u;
  if (col == p.id0) { k = 0u; } else if (col == p.id1) { k = 1u; } else if (col == p.id2) { k = 2u; }
  if (k == 3u || row >= p.B) { return 0.0; }
  let t = tgt(row);
  let pr = exp(logProbs(gather(row)));
  let gi = select(g[0] * p.scale, g[row], p.gPerRow == 1u) * weight(row);
  return gi * (pr[k] * (t.x + t.y + t.z) - t[k]);
}
@compute @workgroup_size(${CE3_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = gid.x + gid.y * nw.x * ${CE3_WG}u;
  let stride = nw.x * nw.y * ${CE3_WG}u;
  let n4 = (p.B * p.V + 3u) / 4u;
  for (var j = 0u; j < ${CE3_BWD_VPT}u; j++) {
    let i = t + j * stride;
    if (i >= n4) { break; }
    let e = 4u * i;
    var row = e / p.V;
    var col = e - row * p.V;
    var v = vec4<f32>(0.0);
    for (var c = 0u; c < 4u; c++) {
      v[c] = gradAt(row, col);
      col += 1u;
      if (col == p.V) { col = 0u; row += 1u; }
    }
    dx[i] = v;
  }
}`,
  ['r', 'r', 'r', 'r', 'r', 'rw'],
);

/** p̂ [B, 3] for scoring (no target, no gradient). */
export const ce3Probs = kernel(
  'ce3_probs',
  /* wgsl */ `
struct P { B: u32, V: u32, id0: u32, id1: u32, id2: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> probs: array<f32>;
@compute @workgroup_size(${CE3_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * ${CE3_WG}u;
  if (i >= p.B) { return; }
  let b = i * p.V;
  let z = vec3<f32>(logits[b + p.id0], logits[b + p.id1], logits[b + p.id2]);
  let e = exp(z - vec3<f32>(max(z.x, max(z.y, z.z))));
  let pr = e / (e.x + e.y + e.z);
  probs[3u * i] = pr.x;
  probs[3u * i + 1u] = pr.y;
  probs[3u * i + 2u] = pr.z;
}`,
  ['r', 'rw'],
);
