// Tiled (flash) attention backward for hardware GPUs: the dq and dkv passes of backward-rows.ts
// (same math, one writer per output row, no atomics) with the rows every invocation of a workgroup
// reads staged in workgroup memory once per workgroup (see forward-flash.ts). The prep pass (lse, D)
// is backward-rows.ts's.
//   P_ij = exp(scale·q_i·k_j − lse_i),  dS_ij = P_ij·(dO_i·v_j − D_i)
//   dQ_i = scale·Σ_j dS_ij·k_j;   dV_j = Σ_i P_ij·dO_i,  dK_j = scale·Σ_i dS_ij·q_i
// dq: one invocation per query row, K and V tiles of BK keys; tiles past the block's last visible key
// are skipped. dkv: one invocation per key row of a (batch, kv head), Q and dO tiles of BQ queries
// (and their (lse, D)) of every query head of the group, from the first query that sees the block's
// first key. Invocations past the last row shadow it (they reach every barrier) and do not write.
import { kernel, type Kernel } from '../kernel.ts';
import { ATTN_DKV_BINDINGS, ATTN_DQ_BINDINGS, ATTN_HELPERS, ATTN_PARAMS, DKV_ROW_STATE, DQ_ROW_STATE, unroll } from './common.ts';
import { FLASH_ROWS, flashQueryKernel, flashTile, stageTiles } from './forward-flash.ts';

/** dQ. Grid: (ceil(T / FLASH_ROWS), H, B). */
export function attentionBackwardDqFlash(Dh: number): Kernel {
  const DH4 = Dh / 4;
  const step = `var s4 = vec4<f32>(0.0);
      var dp4 = vec4<f32>(0.0);
      ${unroll(DH4, (d) => `s4 = fma(qr[${d}], kt[ko + ${d}u], s4); dp4 = fma(gr[${d}], vt[ko + ${d}u], dp4);`)}
      let ds = exp(hsum(s4) - st.x) * (hsum(dp4) - st.y);
      ${unroll(DH4, (d) => `acc[${d}] = fma(vec4<f32>(ds), kt[ko + ${d}u], acc[${d}]);`)}`;
  const write = unroll(DH4, (d) => `dq[qo + ${d}u] = acc[${d}] * p.scale;`);
  return flashQueryKernel('attention_bwd_dq_flash', Dh, ATTN_DQ_BINDINGS, ['r', 'r', 'r', 'r', 'r', 'r', 'rw'], DQ_ROW_STATE(DH4), step, write);
}

/** dK and dV. Grid: (ceil(S / FLASH_ROWS), Hkv, B). */
export function attentionBackwardDkvFlash(Dh: number): Kernel {
  const DH4 = Dh / 4;
  const BQ = flashTile(Dh, 2, 8);
  return kernel(
    `attention_bwd_dkv_flash_d${Dh}`,
    /* wgsl */ `
${ATTN_PARAMS}
${ATTN_DKV_BINDINGS}
${ATTN_HELPERS(DH4)}
var<workgroup> qt: array<vec4<f32>, ${BQ * DH4}>;
var<workgroup> gt: array<vec4<f32>, ${BQ * DH4}>;
var<workgroup> lt: array<vec2<f32>, ${BQ}>;
@compute @workgroup_size(${FLASH_ROWS})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let j0 = wid.x * ${FLASH_ROWS}u;
  let j = min(j0 + lid, p.S - 1u);
  let hk = wid.y;
  let b = wid.z;
  ${DKV_ROW_STATE(DH4)}
  // the block's first key is seen from the earliest query (padded keys: from none)
  let startAll = queryStart(b, j0);
  for (var g = 0u; g < p.group; g++) {
    let h = hk * p.group + g;
    for (var i0 = startAll; i0 < p.T; i0 += ${BQ}u) {
      ${stageTiles([{ src: 'q', tile: 'qt' }, { src: 'dout', tile: 'gt' }], BQ, DH4, 'i0', 'p.T', (r) => `qBase(b, ${r}, h)`, `if (lid < ${BQ}u) { lt[lid] = ld[(b * p.H + h) * p.T + min(i0 + lid, p.T - 1u)]; }`)}
      let n = min(p.T, i0 + ${BQ}u);
      for (var i = max(start, i0); i < n; i++) {
        let qo = (i - i0) * DH4;
        let st = lt[i - i0];
        var s4 = vec4<f32>(0.0);
        var dp4 = vec4<f32>(0.0);
        ${unroll(DH4, (d) => `s4 = fma(kr[${d}], qt[qo + ${d}u], s4); dp4 = fma(vr[${d}], gt[qo + ${d}u], dp4);`)}
        let pij = exp(hsum(s4) - st.x);
        let ds = pij * (hsum(dp4) - st.y);
        ${unroll(DH4, (d) => `av[${d}] = fma(vec4<f32>(pij), gt[qo + ${d}u], av[${d}]); ak[${d}] = fma(vec4<f32>(ds), qt[qo + ${d}u], ak[${d}]);`)}
      }
    }
  }
  if (j0 + lid < p.S) {
    ${unroll(DH4, (d) => `dk[ko + ${d}u] = ak[${d}] * p.scale; dv[ko + ${d}u] = av[${d}];`)}
  }
}`,
    ['r', 'r', 'r', 'r', 'r', 'r', 'rw', 'rw'],
  );
}
