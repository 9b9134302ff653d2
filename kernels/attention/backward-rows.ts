// Fused attention backward without float atomics, recomputing P from Q, K and the saved LSE:
//   P_ij = exp(scale·q_i·k_j − lse_i),  D_i = Σ_d dO_i·O_i
//   dV_j = Σ_i P_ij·dO_i,  dS_ij = P_ij·(dO_i·v_j − D_i),  dQ_i = scale·Σ_j dS_ij·k_j,  dK_j = scale·Σ_i dS_ij·q_i
// Three passes, each one invocation per row with register accumulators:
//   prep: (lse, D) per query row;  dq: one invocation per query row loops over its visible keys;
//   dkv: one invocation per (batch, kv head, key) loops over every query head of its group and
//   every query that sees the key, so each dK/dV element has exactly one writer.
import { kernel, type Kernel, memoKernel } from '../kernel.ts';
import { ATTN_DKV_BINDINGS, ATTN_DQ_BINDINGS, ATTN_HELPERS, ATTN_PARAMS, ATTN_WG, DKV_ROW_STATE, DQ_ROW_STATE, unroll } from './common.ts';

/** ld[b, h, i] = (lse, D). Grid: (ceil(T / WG), H, B). */
export const attentionBackwardPrep = memoKernel(function attentionBackwardPrep(Dh: number): Kernel {
  const DH4 = Dh / 4;
  return kernel(
    `attention_bwd_prep_d${Dh}`,
    /* wgsl */ `
${ATTN_PARAMS}
@group(0) @binding(1) var<storage, read> o: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> lse: array<f32>;
@group(0) @binding(4) var<storage, read_write> ld: array<vec2<f32>>;
const DH4: u32 = ${DH4}u;
@compute @workgroup_size(${ATTN_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let h = gid.y;
  let b = gid.z;
  if (i >= p.T) { return; }
  let qo = ((b * p.T + i) * p.H + h) * DH4;
  var s4 = vec4<f32>(0.0);
  ${unroll(DH4, (d) => `s4 = fma(dout[qo + ${d}u], o[qo + ${d}u], s4);`)}
  let r = (b * p.H + h) * p.T + i;
  ld[r] = vec2<f32>(lse[r], s4.x + s4.y + s4.z + s4.w);
}`,
    ['r', 'r', 'r', 'rw'],
  );
});

/** dQ. Grid: (ceil(T / WG), H, B). */
export const attentionBackwardDq = memoKernel(function attentionBackwardDq(Dh: number): Kernel {
  const DH4 = Dh / 4;
  return kernel(
    `attention_bwd_dq_rows_d${Dh}`,
    /* wgsl */ `
${ATTN_PARAMS}
${ATTN_DQ_BINDINGS}
${ATTN_HELPERS(DH4)}
@compute @workgroup_size(${ATTN_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let h = gid.y;
  let b = gid.z;
  if (i >= p.T) { return; }
  ${DQ_ROW_STATE(DH4)}
  for (var j = 0u; j < end; j++) {
    let ko = kBase(b, j, hk);
    var s4 = vec4<f32>(0.0);
    var dp4 = vec4<f32>(0.0);
    ${unroll(DH4, (d) => `s4 = fma(qr[${d}], k[ko + ${d}u], s4); dp4 = fma(gr[${d}], v[ko + ${d}u], dp4);`)}
    let pij = exp(hsum(s4) - st.x);
    let ds = pij * (hsum(dp4) - st.y);
    ${unroll(DH4, (d) => `acc[${d}] = fma(vec4<f32>(ds), k[ko + ${d}u], acc[${d}]);`)}
  }
  ${unroll(DH4, (d) => `dq[qo + ${d}u] = acc[${d}] * p.scale;`)}
}`,
    ['r', 'r', 'r', 'r', 'r', 'r', 'rw'],
  );
});

/** dK and dV. Grid: (ceil(S / WG), Hkv, B). */
export const attentionBackwardDkv = memoKernel(function attentionBackwardDkv(Dh: number): Kernel {
  const DH4 = Dh / 4;
  return kernel(
    `attention_bwd_dkv_rows_d${Dh}`,
    /* wgsl */ `
${ATTN_PARAMS}
${ATTN_DKV_BINDINGS}
${ATTN_HELPERS(DH4)}
@compute @workgroup_size(${ATTN_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let hk = gid.y;
  let b = gid.z;
  if (j >= p.S) { return; }
  ${DKV_ROW_STATE(DH4)}
  for (var g = 0u; g < p.group; g++) {
    let h = hk * p.group + g;
    for (var i = start; i < p.T; i++) {
      let qo = qBase(b, i, h);
      let st = ld[(b * p.H + h) * p.T + i];
      var s4 = vec4<f32>(0.0);
      var dp4 = vec4<f32>(0.0);
      ${unroll(DH4, (d) => `s4 = fma(kr[${d}], q[qo + ${d}u], s4); dp4 = fma(vr[${d}], dout[qo + ${d}u], dp4);`)}
      let pij = exp(hsum(s4) - st.x);
      let ds = pij * (hsum(dp4) - st.y);
      ${unroll(DH4, (d) => `av[${d}] = fma(vec4<f32>(pij), dout[qo + ${d}u], av[${d}]); ak[${d}] = fma(vec4<f32>(ds), q[qo + ${d}u], ak[${d}]);`)}
    }
  }
  ${unroll(DH4, (d) => `dk[ko + ${d}u] = ak[${d}] * p.scale; dv[ko + ${d}u] = av[${d}];`)}
}`,
    ['r', 'r', 'r', 'r', 'r', 'r', 'rw', 'rw'],
  );
});
