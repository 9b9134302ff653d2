// The merge step of the fused LM head (engine/losses/lm-head-ce.ts). The head's forward product
// (kernels/matmul/broadcast.ts with the log-sum-exp epilogue) leaves per row r and column tile j
// the pair (M_rj, S_rj = Σ_{c ∈ tile j} exp(z_rc − M_rj)) for a shift M_rj (the tile row's max, or
// 0); one invocation per row merges them:
//   m_r = max_j M_rj,   Σ_r = Σ_j S_rj · exp(M_rj − m_r),   lse_r = m_r + log Σ_r
// and writes what kernels/losses/lm-ce.ts's forward writes: (m_r, log Σ_r) for the backward and
// (w_r·(lse_r − z_r,t_r), 1) per row ((0, 0) for an ignored token, NaN for a target outside [0, V));
// and for the input-gradient product that computes the softmax gradient as it loads the logits
// (kernels/matmul/broadcast.ts lmGrad) info_r = (m_r, log Σ_r, c_r, bitcast t_r), c_r = w_r (0 if ignored).
import { kernel } from '../kernel.ts';
import { lmCeRowEnd } from './lm-ce.ts';

export const LMHEAD_MERGE_WG = 64;

export const lmHeadMerge = kernel(
  'lm_head_lse_merge',
  /* wgsl */ `
struct P { N: u32, V: u32, tiles: u32, ignore: i32, hasW: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> part: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> logits: array<f32>;
@group(0) @binding(3) var<storage, read> targets: array<i32>;
@group(0) @binding(4) var<storage, read> w: array<f32>;
@group(0) @binding(5) var<storage, read_write> stats: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read_write> lse: array<vec2<f32>>;
@group(0) @binding(7) var<storage, read_write> info: array<vec4<f32>>;
@compute @workgroup_size(${LMHEAD_MERGE_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let row = gid.x + gid.y * nw.x * ${LMHEAD_MERGE_WG}u;
  if (row >= p.N) { return; }
  let base = row * p.tiles;
  var m = -3.4028234663852886e38;
  for (var j = 0u; j < p.tiles; j++) { m = max(m, part[base + j].x); }
  var s = 0.0;
  for (var j = 0u; j < p.tiles; j++) {
    let q = part[base + j];
    s += q.y * exp(q.x - m);
  }
  ${lmCeRowEnd('m', 'log(s)')}
  let c = select(select(1.0, w[row], p.hasW == 1u), 0.0, t == p.ignore);
  info[row] = vec4<f32>(m, ls, c, bitcast<f32>(t));
}`,
  ['r', 'r', 'r', 'r', 'rw', 'rw', 'rw'],
);
