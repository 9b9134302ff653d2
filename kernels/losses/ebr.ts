// EBR distillation (paper eq. 1) on a score matrix S = Q·Pᵀ [B, M] (M = B in-batch + sampled
// negatives), fused per query row: one workgroup per row runs an online log-sum-exp of S/τ over the
// M candidates and adds the CVR-weighted contrastive term and the MSE term. The backward kernel
// writes dS = ∂L/∂S; the engine turns it into dQ = dS·P and dP = dSᵀ·Q. Math: engine/losses/ebr.ts.
import { lseMerge, lseMergeVars } from './lse-merge.ts';
import { kernel } from '../kernel.ts';

export const EBR_WG = 64;

/** stats[i] = (cvr_i·(lse_i − S_ii/τ) + λ·(S_ii − cvr_i)², 1); lse[i] = (max, log Σ) of S_i/τ. */
export const ebrForward = kernel(
  'ebr_fwd',
  /* wgsl */ `
struct P { B: u32, M: u32, invTau: f32, lambda: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> S: array<f32>;
@group(0) @binding(2) var<storage, read> cvr: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read_write> lse: array<vec2<f32>>;
${lseMergeVars(EBR_WG)}
@compute @workgroup_size(${EBR_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = wid.x + wid.y * nw.x;
  if (i >= p.B) { return; }
  let base = i * p.M;
  var m = -3.4028234663852886e38;
  var s = 0.0;
  for (var j = lid; j < p.M; j += ${EBR_WG}u) {
    let v = S[base + j] * p.invTau;
    let mn = max(m, v);
    s = s * exp(m - mn) + exp(v - mn);
    m = mn;
  }
  ${lseMerge(EBR_WG)}
  if (lid == 0u) {
    let ls = log(ps[0]);
    lse[i] = vec2<f32>(pm[0], ls);
    let sii = S[base + i];
    let c = cvr[i];
    let d = sii - c;
    stats[i] = vec2<f32>(c * ((pm[0] - sii * p.invTau) + ls) + p.lambda * d * d, 1.0);
  }
}`,
  ['r', 'r', 'rw', 'rw'],
);

/** dS[i, j] = (g/norm)·(cvr_i·(softmax(S_i/τ)_j − δ_ij)/τ + δ_ij·2λ·(S_ii − cvr_i)). */
export const ebrBackward = kernel(
  'ebr_bwd_scores',
  /* wgsl */ `
struct P { B: u32, M: u32, invTau: f32, lambda: f32, rowsPerZ: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> S: array<f32>;
@group(0) @binding(2) var<storage, read> cvr: array<f32>;
@group(0) @binding(3) var<storage, read> lse: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read> norm: array<f32>;
@group(0) @binding(6) var<storage, read_write> dS: array<f32>;
@compute @workgroup_size(${EBR_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y + gid.z * p.rowsPerZ; // rows past 65535 fold into z
  let j = gid.x;
  if (i >= p.B || j >= p.M) { return; }
  let k = g[0] / norm[0];
  let l = lse[i];
  let c = cvr[i];
  let v = S[i * p.M + j];
  let diag = i == j;
  var d = c * (exp((v * p.invTau - l.x) - l.y) - select(0.0, 1.0, diag)) * p.invTau;
  if (diag) { d += 2.0 * p.lambda * (v - c); }
  dS[i * p.M + j] = k * d;
}`,
  ['r', 'r', 'r', 'r', 'r', 'rw'],
);
