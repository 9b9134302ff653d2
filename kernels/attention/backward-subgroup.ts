// Attention backward for adapters whose subgroups are SIMD lanes of a CPU (lavapipe): the dq and
// dkv passes of backward-rows.ts (same math, same single writer per output row), with the rows a
// subgroup's lanes all read — keys and values in dq, queries, output gradients and (lse, D) in dkv —
// loaded once per subgroup, spread over the lanes, and handed out with subgroupBroadcast (see
// forward-subgroup.ts for why). The prep pass (lse, D) is backward-rows.ts's.
//   P_ij = exp(scale·q_i·k_j − lse_i),  dS_ij = P_ij·(dO_i·v_j − D_i)
//   dQ_i = scale·Σ_j dS_ij·k_j;   dV_j = Σ_i P_ij·dO_i,  dK_j = scale·Σ_i dS_ij·q_i
// Masked pairs get P = dS = 0. Lanes past the last row shadow it and do not write; the row loops run
// to the subgroup's extreme bound (subgroupMax / subgroupMin), the same on every lane.
import { kernel, type Kernel, memoKernel } from '../kernel.ts';
import { attentionKeyBlock, ATTN_DKV_BINDINGS, ATTN_DQ_BINDINGS, ATTN_HELPERS, ATTN_SUBGROUP_HEAD, ATTN_WG, blockLayout, DKV_ROW_STATE, DQ_ROW_STATE, unroll } from './common.ts';

const range = (n: number) => [...Array(n).keys()];

/** dQ, one lane per query row, keys in blocks. Grid: (ceil(T / WG), H, B). */
export const attentionBackwardDqSubgroup = memoKernel(function attentionBackwardDqSubgroup(Dh: number, SG: number): Kernel {
  const DH4 = Dh / 4;
  const KB = attentionKeyBlock(Dh, SG);
  const blk = blockLayout(KB, DH4, SG);
  const row = (arr: string) => (r: string, c: string) => `${arr}[kBase(b, min(j0 + ${r}, p.S - 1u), hk) + ${c}]`;
  const body: string[] = [];
  for (const u of range(blk.slots)) body.push(blk.load('kb', u, row('k')), blk.load('vb', u, row('v')));
  for (const j of range(KB)) {
    body.push(`{ var s4 = vec4<f32>(0.0); var dp4 = vec4<f32>(0.0);`);
    body.push(unroll(DH4, (d) => `s4 = fma(qr[${d}], ${blk.get('kb', j, d)}, s4); dp4 = fma(gr[${d}], ${blk.get('vb', j, d)}, dp4);`));
    body.push(`  let ds = select(0.0, exp(hsum(s4) - st.x) * (hsum(dp4) - st.y), j0 + ${j}u < end);`);
    body.push(unroll(DH4, (d) => `acc[${d}] = fma(vec4<f32>(ds), ${blk.get('kb', j, d)}, acc[${d}]);`));
    body.push('}');
  }
  return kernel(
    `attention_bwd_dq_subgroup_d${Dh}_sg${SG}`,
    /* wgsl */ `${ATTN_SUBGROUP_HEAD(ATTN_DQ_BINDINGS)}
${ATTN_HELPERS(DH4)}
@compute @workgroup_size(${ATTN_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
  let i = min(gid.x, p.T - 1u);
  let h = gid.y;
  let b = gid.z;
  if (subgroupAll(gid.x >= p.T)) { return; } // a subgroup wholly past the last query row does nothing
  ${DQ_ROW_STATE(DH4)}
  let endAll = subgroupMax(end);
  for (var j0 = 0u; j0 < endAll; j0 += ${KB}u) {
    ${body.join('\n    ')}
  }
  if (gid.x < p.T) {
    ${unroll(DH4, (d) => `dq[qo + ${d}u] = acc[${d}] * p.scale;`)}
  }
}`,
    ['r', 'r', 'r', 'r', 'r', 'r', 'rw'],
  );
});

/**
 * dK and dV, one lane per key row, queries (of every head of the group) in blocks. Grid: (ceil(S / WG), Hkv, B).
 * With `writeScores`, also dS_ij (unscaled) into `ds` [B, H, T, S4] (S4 = S rounded up to 4; see
 * backward-scores.ts, whose dQ then reads them instead of recomputing P and dP); only the pairs this
 * pass visits are written — every visible one — and the reader masks the rest.
 */
export const attentionBackwardDkvSubgroup = memoKernel(function attentionBackwardDkvSubgroup(Dh: number, SG: number, writeScores: boolean): Kernel {
  const DH4 = Dh / 4;
  const QB = attentionKeyBlock(Dh, SG);
  const blk = blockLayout(QB, DH4, SG);
  const st = blockLayout(QB, 1, SG);
  const qrow = (arr: string) => (r: string, c: string) => `${arr}[qBase(b, min(i0 + ${r}, p.T - 1u), h) + ${c}]`;
  const body: string[] = [];
  for (const u of range(blk.slots)) body.push(blk.load('qb', u, qrow('q')), blk.load('gb', u, qrow('dout')));
  for (const u of range(st.slots)) body.push(st.load('lb', u, (r) => `ld[(b * p.H + h) * p.T + min(i0 + ${r}, p.T - 1u)]`));
  for (const i of range(QB)) {
    // the same on every lane: a block past the last query (the one-row launch's 1 of QB) is skipped
    body.push(`if (i0 + ${i}u < p.T) { var s4 = vec4<f32>(0.0); var dp4 = vec4<f32>(0.0);`);
    body.push(unroll(DH4, (d) => `s4 = fma(kr[${d}], ${blk.get('qb', i, d)}, s4); dp4 = fma(vr[${d}], ${blk.get('gb', i, d)}, dp4);`));
    body.push(`  let st = ${st.get('lb', i, 0)};`);
    body.push(`  let seen = i0 + ${i}u >= start && i0 + ${i}u < p.T;`);
    body.push(`  let pij = select(0.0, exp(hsum(s4) - st.x), seen);`);
    body.push(`  let ds = pij * (hsum(dp4) - st.y);`);
    if (writeScores) body.push(`  if (gid.x < p.S) { dsOut[((b * p.H + h) * p.T + i0 + ${i}u) * S4 + j] = ds; }`);
    body.push(unroll(DH4, (d) => `av[${d}] = fma(vec4<f32>(pij), ${blk.get('gb', i, d)}, av[${d}]); ak[${d}] = fma(vec4<f32>(ds), ${blk.get('qb', i, d)}, ak[${d}]);`));
    body.push('}');
  }
  return kernel(
    `attention_bwd_dkv_subgroup_d${Dh}_sg${SG}${writeScores ? '_ds' : ''}`,
    /* wgsl */ `${ATTN_SUBGROUP_HEAD(ATTN_DKV_BINDINGS)}${writeScores ? '\n@group(0) @binding(9) var<storage, read_write> dsOut: array<f32>;' : ''}
${ATTN_HELPERS(DH4)}
@compute @workgroup_size(${ATTN_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
  let j = min(gid.x, p.S - 1u);
  let hk = gid.y;
  let b = gid.z;
  if (subgroupAll(gid.x >= p.S)) { return; } // a subgroup wholly past the last key row does nothing
  ${DKV_ROW_STATE(DH4)}
  let startAll = subgroupMin(start);${writeScores ? '\n  let S4 = (p.S + 3u) / 4u * 4u;' : ''}
  for (var g = 0u; g < p.group; g++) {
    let h = hk * p.group + g;
    for (var i0 = startAll; i0 < p.T; i0 += ${QB}u) {
      ${body.join('\n      ')}
    }
  }
  if (gid.x < p.S) {
    ${unroll(DH4, (d) => `dk[ko + ${d}u] = ak[${d}] * p.scale; dv[ko + ${d}u] = av[${d}];`)}
  }
}`,
    writeScores ? ['r', 'r', 'r', 'r', 'r', 'r', 'rw', 'rw', 'rw'] : ['r', 'r', 'r', 'r', 'r', 'r', 'rw', 'rw'],
  );
});
