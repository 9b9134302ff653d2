// Fused attention forward, one invocation per query row (flash-attention without workgroup memory:
// the best shape on lavapipe, where workgroup memory and barriers are pure overhead). Each
// invocation keeps its scaled query and an output accumulator of Dh floats in registers and streams
// the visible keys once with an online softmax:
//   s_j = scale·q·k_j;  m' = max(m, s_j);  l = l·e^(m−m') + e^(s_j−m');  acc = acc·e^(m−m') + e^(s_j−m')·v_j
//   o = acc / l,  lse = m + log l   (rows with no visible key: o = 0, lse = 0)
// The rescale only runs when the running max grows, which after the first keys is rare.
// Invocations of a workgroup are consecutive queries of one (batch, head): they read the same keys
// at the same time. Grid: (ceil(T / WG), H, B).
import { kernel, type Kernel } from '../kernel.ts';
import { ATTN_FWD_BINDINGS, ATTN_HELPERS, ATTN_PARAMS, ATTN_WG, FWD_ROW_STATE, FWD_ROW_WRITE, ONLINE_SOFTMAX_STEP } from './common.ts';

export function attentionForwardRows(Dh: number): Kernel {
  const DH4 = Dh / 4;
  return kernel(
    `attention_fwd_rows_d${Dh}`,
    /* wgsl */ `
${ATTN_PARAMS}
${ATTN_FWD_BINDINGS}
${ATTN_HELPERS(DH4)}
@compute @workgroup_size(${ATTN_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let h = gid.y;
  let b = gid.z;
  if (i >= p.T) { return; }
  ${FWD_ROW_STATE(DH4)}
  for (var j = 0u; j < end; j++) {
    let ko = kBase(b, j, hk);
    ${ONLINE_SOFTMAX_STEP(DH4, (d) => `k[ko + ${d}u]`, (d) => `v[ko + ${d}u]`)}
  }
  ${FWD_ROW_WRITE(DH4)}
}`,
    ['r', 'r', 'r', 'r', 'rw', 'rw'],
  );
}
