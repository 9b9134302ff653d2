// Fused attention forward for adapters whose subgroups are SIMD lanes of a CPU (lavapipe): the same
// online softmax as forward-rows.ts (one invocation per query row, output accumulator in registers),
// but the keys and values a subgroup's queries share are loaded once per subgroup instead of once per
// lane. Lavapipe turns every non-constant storage load into a per-lane sequence (≈ 9 instructions per
// float), so in the row kernel each lane paid that for every key and value element it read, all eight
// lanes reading the same addresses. Here a block of KB keys (KB·Dh/4 vec4 of K, as many of V) is
// spread over the SG lanes, one vec4 per lane per load, and every lane gets each key/value vec4 with
// subgroupBroadcast (a register permute).
//   per block: s_j = scale·q·k_j (j < KB; masked keys −∞), m' = max(m, max_j s_j), rescale once,
//   l += Σ e^(s_j−m'), acc += Σ e^(s_j−m')·v_j;   o = acc / l,  lse = m + log l (no visible key: 0, 0)
// Lanes past the last query compute a clamped row and do not write; the key loop runs to the
// subgroup's largest visible end. Grid: (ceil(T / WG), H, B); WG is a multiple of SG and SG is the
// adapter's fixed subgroup size with lanes in local-index order (engine/device.ts probes both).
import { kernel, type Kernel, memoKernel } from '../kernel.ts';
import { attentionKeyBlock, ATTN_FWD_BINDINGS, ATTN_HELPERS, ATTN_SUBGROUP_HEAD, ATTN_WG, blockLayout, FWD_ROW_STATE, FWD_ROW_WRITE, unroll } from './common.ts';

export const attentionForwardSubgroup = memoKernel(function attentionForwardSubgroup(Dh: number, SG: number): Kernel {
  const DH4 = Dh / 4;
  const KB = attentionKeyBlock(Dh, SG);
  const blk = blockLayout(KB, DH4, SG);
  const range = (n: number) => [...Array(n).keys()];
  const key = (r: string, d4: string) => `k[kBase(b, min(j0 + ${r}, p.S - 1u), hk) + ${d4}]`;
  const val = (r: string, d4: string) => `v[kBase(b, min(j0 + ${r}, p.S - 1u), hk) + ${d4}]`;
  const body: string[] = [];
  for (const u of range(blk.slots)) body.push(blk.load('kb', u, key));
  for (const j of range(KB)) {
    body.push(`var s${j} = vec4<f32>(0.0);`);
    body.push(unroll(DH4, (d) => `s${j} = fma(qr[${d}], ${blk.get('kb', j, d)}, s${j});`));
    body.push(`let t${j} = select(-3.0e38, hsum(s${j}), j0 + ${j}u < end);`);
  }
  body.push(`let mb = max(m, ${range(KB).reduce((acc, j) => (acc ? `max(${acc}, t${j})` : `t${j}`), '')});`);
  body.push('let c = exp(m - mb);');
  body.push('m = mb;');
  body.push(unroll(DH4, (d) => `acc[${d}] = acc[${d}] * c;`));
  // masked keys: t = −3e38 gives e = 0; when every key so far is masked m stays −3e38 and e would be 1: zero it
  body.push(`l = l * c;`);
  for (const j of range(KB)) body.push(`let e${j} = select(0.0, exp(t${j} - mb), j0 + ${j}u < end);`);
  body.push(`l = l + ${range(KB).map((j) => `e${j}`).join(' + ')};`);
  for (const u of range(blk.slots)) body.push(blk.load('vb', u, val));
  for (const j of range(KB)) body.push(unroll(DH4, (d) => `acc[${d}] = fma(vec4<f32>(e${j}), ${blk.get('vb', j, d)}, acc[${d}]);`));
  return kernel(
    `attention_fwd_subgroup_d${Dh}_sg${SG}`,
    // the key loop runs to subgroupMax(end), the same bound on every lane (hence the header's diagnostic)
    /* wgsl */ `${ATTN_SUBGROUP_HEAD(ATTN_FWD_BINDINGS)}
${ATTN_HELPERS(DH4)}
@compute @workgroup_size(${ATTN_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
  let i = min(gid.x, p.T - 1u); // lanes past the last query shadow it and do not write
  let h = gid.y;
  let b = gid.z;
  if (subgroupAll(gid.x >= p.T)) { return; } // a subgroup wholly past the last query (a one-row launch) does nothing
  ${FWD_ROW_STATE(DH4)}
  let endAll = subgroupMax(end);
  for (var j0 = 0u; j0 < endAll; j0 += ${KB}u) {
    ${body.join('\n    ')}
  }
  if (gid.x < p.T) {
    ${FWD_ROW_WRITE(DH4)}
  }
}`,
    ['r', 'r', 'r', 'r', 'rw', 'rw'],
  );
});
