// Tiled (flash) attention backward for hardware GPUs: the dq and dkv passes of backward-rows.ts
// (same math, one writer per output element, no atomics) in the layout of forward-flash.ts: R lanes
// per row, each owning a head-dim slice of the row's accumulators, and the rows every lane reads
// staged in workgroup memory once per workgroup. The prep pass (lse, D) is backward-rows.ts's.
//   P_ij = exp(scale·q_i·k_j − lse_i),  dS_ij = P_ij·(dO_i·v_j − D_i)
//   dQ_i = scale·Σ_j dS_ij·k_j;   dV_j = Σ_i P_ij·dO_i,  dK_j = scale·Σ_i dS_ij·q_i
// dq: query blocks stream K and V tiles; lane c of row i computes dS_ij for the tile's keys j ≡ c
// (mod R) into a tile, then every lane adds its slice of Σ_j dS_ij·k_j over the keys the row sees.
// dkv: key blocks of a (batch, kv head) stream Q and dO tiles (and their (lse, D)) of every query
// head of the group, from the first query that sees the block's first key; lane c of key j
// computes P_ij and dS_ij for the tile's queries i ≡ c (mod R), then every lane adds its slices of
// Σ_i P_ij·dO_i and Σ_i dS_ij·q_i. Invocations past the last row shadow it and do not write.
import { kernel, type Kernel } from '../kernel.ts';
import { ATTN_DKV_BINDINGS, ATTN_DQ_BINDINGS, ATTN_HELPERS, ATTN_PARAMS, unroll } from './common.ts';
import { dotRow, FLASH_WG, flashQueryKernel, flashQueryShape, flashShape, stageTiles } from './forward-flash.ts';

/** dK/dV's shape: Q and dO tiles with (lse, D) per query, P and dS tiles. */
export const flashKeyShape = (Dh: number) => flashShape(Dh, 2, 8, 2);

/** Registers of a full row of `src` at offset `at`, times `mul`. */
const rowRegs = (name: string, src: string, at: string, DH4: number, mul = '') =>
  `var ${name}: array<vec4<f32>, ${DH4}>;
  ${unroll(DH4, (d) => `${name}[${d}] = ${src}[${at} + ${d}u]${mul};`)}`;
const zeros = (name: string, n: number) => `var ${name}: array<vec4<f32>, ${n}>;
  ${unroll(n, (e) => `${name}[${e}] = vec4<f32>(0.0);`)}`;

/** dQ. Grid: (ceil(T / rows), H, B). */
export function attentionBackwardDqFlash(Dh: number): Kernel {
  const DH4 = Dh / 4;
  const { SL } = flashQueryShape(Dh);
  const state = `let st = ld[(b * p.H + h) * p.T + i];
  ${rowRegs('qr', 'q', 'qo', DH4, ' * p.scale')}
  ${rowRegs('gr', 'dout', 'qo', DH4)}
  ${zeros('acc', SL)}`;
  const score = `exp(${dotRow('qr', 'kt', DH4)} - st.x) * (${dotRow('gr', 'vt', DH4)} - st.y)`;
  const accumulate = `for (var jj = 0u; jj < n; jj++) {
        let ds = sc[so + jj];
        let ko = jj * ${DH4 + 1}u + c * ${SL}u;
        ${unroll(SL, (e) => `acc[${e}] = fma(vec4<f32>(ds), kt[ko + ${e}u], acc[${e}]);`)}
      }`;
  const write = unroll(SL, (e) => `dq[qo + c * ${SL}u + ${e}u] = acc[${e}] * p.scale;`);
  return flashQueryKernel('attention_bwd_dq_flash', Dh, ATTN_DQ_BINDINGS, ['r', 'r', 'r', 'r', 'r', 'r', 'rw'], state, score, accumulate, write);
}

/** dK and dV. Grid: (ceil(S / rows), Hkv, B). */
export function attentionBackwardDkvFlash(Dh: number): Kernel {
  const DH4 = Dh / 4;
  const { R, SL, rows, tile: BQ } = flashKeyShape(Dh);
  const lt = `if (lid < ${BQ}u) { lt[lid] = ld[(b * p.H + h) * p.T + min(i0 + lid, p.T - 1u)]; }`;
  return kernel(
    `attention_bwd_dkv_flash_d${Dh}`,
    /* wgsl */ `
${ATTN_PARAMS}
${ATTN_DKV_BINDINGS}
${ATTN_HELPERS(DH4)}
var<workgroup> qt: array<vec4<f32>, ${BQ * (DH4 + 1)}>;
var<workgroup> gt: array<vec4<f32>, ${BQ * (DH4 + 1)}>;
var<workgroup> lt: array<vec2<f32>, ${BQ}>;
var<workgroup> pt: array<f32, ${rows * (BQ | 1)}>;
var<workgroup> dt: array<f32, ${rows * (BQ | 1)}>;
@compute @workgroup_size(${FLASH_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = lid % ${rows}u;
  let c = lid / ${rows}u;
  let j0 = wid.x * ${rows}u;
  let j = min(j0 + r, p.S - 1u);
  let hk = wid.y;
  let b = wid.z;
  let kv = kBase(b, j, hk);
  let so = r * ${BQ | 1}u;
  ${rowRegs('kr', 'k', 'kv', DH4, ' * p.scale')}
  ${rowRegs('vr', 'v', 'kv', DH4)}
  ${zeros('ak', SL)}
  ${zeros('av', SL)}
  let start = queryStart(b, j);
  // the block's first key is seen from the earliest query (padded keys: from none)
  let startAll = queryStart(b, j0);
  for (var g = 0u; g < p.group; g++) {
    let h = hk * p.group + g;
    for (var i0 = startAll; i0 < p.T; i0 += ${BQ}u) {
      ${stageTiles([{ src: 'q', tile: 'qt' }, { src: 'dout', tile: 'gt' }], BQ, DH4, 'i0', 'p.T', (row) => `qBase(b, ${row}, h)`, lt)}
      for (var ii = c; ii < ${BQ}u; ii += ${R}u) {
        let ko = ii * ${DH4 + 1}u;
        let st = lt[ii];
        let seen = i0 + ii >= start && i0 + ii < p.T;
        let pij = select(0.0, exp(${dotRow('kr', 'qt', DH4)} - st.x), seen);
        pt[so + ii] = pij;
        dt[so + ii] = pij * (${dotRow('vr', 'gt', DH4)} - st.y);
      }
      workgroupBarrier();
      let n = min(p.T - i0, ${BQ}u);
      for (var ii = 0u; ii < n; ii++) {
        let pij = pt[so + ii];
        let ds = dt[so + ii];
        let qo = ii * ${DH4 + 1}u + c * ${SL}u;
        ${unroll(SL, (e) => `av[${e}] = fma(vec4<f32>(pij), gt[qo + ${e}u], av[${e}]); ak[${e}] = fma(vec4<f32>(ds), qt[qo + ${e}u], ak[${e}]);`)}
      }
    }
  }
  if (j0 + r < p.S) {
    ${unroll(SL, (e) => `dk[kv + c * ${SL}u + ${e}u] = ak[${e}] * p.scale; dv[kv + c * ${SL}u + ${e}u] = av[${e}];`)}
  }
}`,
    ['r', 'r', 'r', 'r', 'r', 'r', 'rw', 'rw'],
  );
}
