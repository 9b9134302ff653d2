// Attention backward with the score gradients materialised (variant 'subgroup-ds', CPU adapters with
// fixed subgroups): the dK/dV pass of backward-subgroup.ts also writes dS_ij = P_ij·(dO_i·v_j − D_i)
// into a [B, H, T, S4] buffer (S4 = S rounded up to 4), and dQ reads it:
//   dQ_i = scale·Σ_j dS_ij·k_j
// one multiply-add per query–key pair·Dh instead of recomputing the scores and dO·v (three), so the
// backward does 5·Dh multiply-adds per visible pair instead of 7·Dh, for O(B·H·T·S) memory — what a
// framework that keeps P in the forward holds anyway. engine/ops/attention.ts uses it only while that
// buffer stays small (ATTN_SCORES_MAX_BYTES) and falls back to the two recomputing passes otherwise.
// One lane per query row; keys in blocks of KB (a multiple of 4: a lane reads its row's dS as vec4),
// the block's K rows loaded once per subgroup and handed out with subgroupBroadcast (as in
// backward-subgroup.ts). Pairs the dK/dV pass did not visit hold stale values: they are selected
// away (j ≥ the row's key end), never multiplied.
import { kernel, type Kernel, memoKernel } from '../kernel.ts';
import { ATTN_HELPERS, ATTN_SUBGROUP_HEAD, ATTN_WG, blockLayout, unroll } from './common.ts';

const range = (n: number) => [...Array(n).keys()];

/** Keys per block of dQ from dS: 4 per vec4 of the row, at least as many as keep a lane's K slots ≤ 4 vec4. */
export function scoresKeyBlock(Dh: number, SG: number): number {
  return Math.max(4, 4 * Math.floor(SG / (Dh / 4)));
}

/** dQ from dS. Grid: (ceil(T / WG), H, B). Bindings: params, k, ds (vec4 view), lens, dq. */
export const attentionBackwardDqScores = memoKernel(function attentionBackwardDqScores(Dh: number, SG: number): Kernel {
  const DH4 = Dh / 4;
  const KB = scoresKeyBlock(Dh, SG);
  const blk = blockLayout(KB, DH4, SG);
  const body: string[] = [];
  for (const u of range(blk.slots)) body.push(blk.load('kb', u, (r, c) => `k[kBase(b, min(j0 + ${r}, p.S - 1u), hk) + ${c}]`));
  for (const v of range(KB / 4)) {
    body.push(`let ds${v} = select(vec4<f32>(0.0), ds[min(row + j0 / 4u + ${v}u, rowEnd)], vec4<u32>(j0 + ${4 * v}u) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(end));`);
  }
  for (const j of range(KB)) body.push(unroll(DH4, (d) => `acc[${d}] = fma(vec4<f32>(ds${j >> 2}[${j & 3}]), ${blk.get('kb', j, d)}, acc[${d}]);`));
  return kernel(
    `attention_bwd_dq_scores_d${Dh}_sg${SG}`,
    /* wgsl */ `${ATTN_SUBGROUP_HEAD(`@group(0) @binding(1) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> ds: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> lens: array<i32>;
@group(0) @binding(4) var<storage, read_write> dq: array<vec4<f32>>;`)}
${ATTN_HELPERS(DH4)}
@compute @workgroup_size(${ATTN_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
  let i = min(gid.x, p.T - 1u);
  let h = gid.y;
  let b = gid.z;
  if (subgroupAll(gid.x >= p.T)) { return; } // a subgroup wholly past the last query row does nothing
  let hk = h / p.group;
  let end = keyEnd(b, i);
  let endAll = subgroupMax(end);
  let S4 = (p.S + 3u) / 4u;
  let row = ((b * p.H + h) * p.T + i) * S4;
  let rowEnd = row + S4 - 1u; // a block past the row's end reads its last vec4 (selected away)
  var acc: array<vec4<f32>, ${DH4}>;
  ${unroll(DH4, (d) => `acc[${d}] = vec4<f32>(0.0);`)}
  for (var j0 = 0u; j0 < endAll; j0 += ${KB}u) {
    ${body.join('\n    ')}
  }
  if (gid.x < p.T) {
    let qo = qBase(b, i, h);
    ${unroll(DH4, (d) => `dq[qo + ${d}u] = acc[${d}] * p.scale;`)}
  }
}`,
    ['r', 'r', 'r', 'rw'],
  );
});
