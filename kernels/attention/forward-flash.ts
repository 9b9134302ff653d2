// Tiled (flash) attention forward for hardware GPUs. One workgroup of FLASH_WG invocations per
// (block of `rows` query rows, head, batch); each query row is shared by R invocations ("lanes"),
// lane c owning head-dim slice c (SL = Dh/4/R vec4) of the row's output accumulator, so a block of
// rows keeps R times the invocations of one-row-per-invocation kernels busy. Keys stream in tiles of
// BK rows through workgroup memory, per tile:
//   1. every invocation copies part of the K and V tiles (rows ≥ S zero-filled);
//   2. scores: lane c of row r computes s_rj = scale·q_r·k_j for the tile's keys j ≡ c (mod R) (full
//      query row in registers) into a score tile;
//   3. online softmax, each lane of the row alike: m' = max(m, max_j s_rj), l = l·e^(m−m') + Σ_j e^(s_rj−m'),
//      acc = acc·e^(m−m') + Σ_j e^(s_rj−m')·v_j (its slice of v_j), over the keys the row sees;
//   o = acc / l,  lse = m + log l  (rows with no visible key: o = 0, lse = 0), the row kernels' layout,
//   so any backward runs on them.
// Tiles past the block's last visible key (causal limit of its last row, key length) are skipped.
// Workgroup memory fits WebGPU's guaranteed 16 KiB; K/V rows are padded by one vec4 and score rows
// have an odd stride, so the rows that lanes read or write at once fall in different banks. Invocation lid = c·rows + r: the lanes of
// a hardware subgroup are consecutive rows of one slice (score and V reads broadcast). Invocations
// past the last row shadow it (they reach every barrier) and do not write. No subgroup operations.
// Grid: (ceil(T / rows), H, B).
import { kernel, type Kernel } from '../kernel.ts';
import { ATTN_FWD_BINDINGS, ATTN_HELPERS, ATTN_PARAMS, unroll } from './common.ts';

/** Invocations per workgroup of the flash kernels. */
export const FLASH_WG = 128;
const WG_MEMORY = 16384; // bytes: WebGPU's guaranteed maxComputeWorkgroupStorageSize

export interface FlashShape {
  /** Lanes per row; SL vec4 of the head dim per lane. */
  R: number;
  SL: number;
  /** Rows (queries, or keys in dK/dV) per workgroup. */
  rows: number;
  /** Rows per tile streamed through workgroup memory (keys, or queries in dK/dV). */
  tile: number;
}

/**
 * Lanes per row: 4 where the head dim allows (Dh/4 divisible by 4), else 2, else 1. The tile: the
 * most rows (≤ 64) whose `arrays` head-dim rows (padded by a vec4), `extra` bytes per tile row and
 * `scoreTiles` float tiles [rows × (tile + 1)] fit 16 KiB.
 */
export function flashShape(Dh: number, arrays: number, extra: number, scoreTiles: number): FlashShape {
  const DH4 = Dh / 4;
  const R = [4, 2, 1].find((r) => DH4 % r === 0)!;
  const rows = FLASH_WG / R;
  const bytes = (t: number) => t * (arrays * (DH4 + 1) * 16 + extra) + scoreTiles * rows * (t + 1) * 4;
  let tile = 64;
  while (tile > 1 && bytes(tile) > WG_MEMORY) tile--;
  return { R, SL: DH4 / R, rows, tile };
}

/** The forward's and dQ's shape: K and V tiles, one score tile. */
export const flashQueryShape = (Dh: number) => flashShape(Dh, 2, 0, 1);

/**
 * WGSL that copies tile rows [r0, r0 + n) of each source into its workgroup tile (row r at r·stride,
 * stride = Dh/4 + 1): `base(row)` is the WGSL offset of a source row; rows ≥ `limit` read as zero.
 * `extra` is more WGSL that writes workgroup memory. Preceded and followed by a barrier so no tile
 * is read and written at once.
 */
export function stageTiles(sources: { src: string; tile: string }[], n: number, DH4: number, r0: string, limit: string, base: (row: string) => string, extra = ''): string {
  return `workgroupBarrier();
    for (var t = lid; t < ${n * DH4}u; t += ${FLASH_WG}u) {
      let r = ${r0} + t / ${DH4}u;
      let at = ${base(`min(r, ${limit} - 1u)`)} + t % ${DH4}u;
      let to = (t / ${DH4}u) * ${DH4 + 1}u + t % ${DH4}u;
      ${sources.map((c) => `${c.tile}[to] = select(vec4<f32>(0.0), ${c.src}[at], r < ${limit});`).join('\n      ')}
    }
    ${extra}
    workgroupBarrier();`;
}

/**
 * A flash kernel over query blocks that streams K and V tiles (forward, dQ). Given i (row, clamped),
 * r, c, h, b: `state` declares the row's registers and `end`; `score` computes the WGSL value of
 * (row, tile key jj) that goes into sc[so + jj] (so = r·stride) (key vec4 d: kt[ko + d], value: vt[ko + d]);
 * `accumulate` runs per lane over the row's visible keys of the tile (n = their count, score tile
 * row at so); `write` stores the lane's slice (row offset qo, slice offset c·SL).
 */
export function flashQueryKernel(name: string, Dh: number, bindings: string, access: Kernel['bindings'], state: string, score: string, accumulate: string, write: string): Kernel {
  const DH4 = Dh / 4;
  const { R, rows, tile: BK } = flashQueryShape(Dh);
  return kernel(
    `${name}_d${Dh}`,
    /* wgsl */ `
${ATTN_PARAMS}
${bindings}
${ATTN_HELPERS(DH4)}
var<workgroup> kt: array<vec4<f32>, ${BK * (DH4 + 1)}>;
var<workgroup> vt: array<vec4<f32>, ${BK * (DH4 + 1)}>;
var<workgroup> sc: array<f32, ${rows * (BK | 1)}>;
@compute @workgroup_size(${FLASH_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let r = lid % ${rows}u;
  let c = lid / ${rows}u;
  let i0 = wid.x * ${rows}u;
  let i = min(i0 + r, p.T - 1u);
  let h = wid.y;
  let b = wid.z;
  let hk = h / p.group;
  let qo = qBase(b, i, h);
  let so = r * ${BK | 1}u;
  let end = keyEnd(b, i);
  ${state}
  // the block's last query sees the most keys: the tile loop's bound, the same for every invocation
  let endAll = keyEnd(b, min(i0 + ${rows - 1}u, p.T - 1u));
  for (var j0 = 0u; j0 < endAll; j0 += ${BK}u) {
    ${stageTiles([{ src: 'k', tile: 'kt' }, { src: 'v', tile: 'vt' }], BK, DH4, 'j0', 'p.S', (row) => `kBase(b, ${row}, hk)`)}
    for (var jj = c; jj < ${BK}u; jj += ${R}u) {
      let ko = jj * ${DH4 + 1}u;
      sc[so + jj] = ${score};
    }
    workgroupBarrier();
    if (end > j0) {
      let n = min(end - j0, ${BK}u);
      ${accumulate}
    }
  }
  if (i0 + r < p.T) {
    ${write}
  }
}`,
    access,
  );
}

/** Dot products of a register row with a tile row (vec4 d at `tile`[ko + d]), summed. */
export const dotRow = (reg: string, tile: string, DH4: number) => {
  const terms = Array.from({ length: DH4 }, (_, d) => `${reg}[${d}] * ${tile}[ko + ${d}u]`);
  return `hsum(${terms.join(' + ')})`;
};

export function attentionForwardFlash(Dh: number): Kernel {
  const DH4 = Dh / 4;
  const { SL } = flashQueryShape(Dh);
  const state = `var qr: array<vec4<f32>, ${DH4}>;
  ${unroll(DH4, (d) => `qr[${d}] = q[qo + ${d}u] * p.scale;`)}
  var acc: array<vec4<f32>, ${SL}>;
  ${unroll(SL, (e) => `acc[${e}] = vec4<f32>(0.0);`)}
  var m = -3.0e38;
  var l = 0.0;`;
  const accumulate = `var mt = m;
      for (var jj = 0u; jj < n; jj++) { mt = max(mt, sc[so + jj]); }
      let cr = exp(m - mt);
      m = mt;
      l = l * cr;
      ${unroll(SL, (e) => `acc[${e}] = acc[${e}] * cr;`)}
      for (var jj = 0u; jj < n; jj++) {
        let w = exp(sc[so + jj] - m);
        l = l + w;
        let vo = jj * ${DH4 + 1}u + c * ${SL}u;
        ${unroll(SL, (e) => `acc[${e}] = fma(vec4<f32>(w), vt[vo + ${e}u], acc[${e}]);`)}
      }`;
  const write = `let inv = select(0.0, 1.0 / l, l > 0.0);
    ${unroll(SL, (e) => `o[qo + c * ${SL}u + ${e}u] = acc[${e}] * inv;`)}
    if (c == 0u) { lse[(b * p.H + h) * p.T + i] = select(0.0, m + log(l), l > 0.0); }`;
  return flashQueryKernel('attention_fwd_flash', Dh, ATTN_FWD_BINDINGS, ['r', 'r', 'r', 'r', 'rw', 'rw'], state, dotRow('qr', 'kt', DH4), accumulate, write);
}
