// Tiled (flash) attention forward for hardware GPUs: one workgroup per (block of FLASH_ROWS query
// rows, head, batch), one query row per invocation with its scaled query and output accumulator in
// registers. The workgroup streams the keys in tiles of BK rows: all invocations copy a K tile and a
// V tile into workgroup memory (rows ≥ S zero-filled), then each invocation runs the online softmax
// of forward-rows.ts over the tile's keys it sees:
//   s_j = scale·q·k_j;  m' = max(m, s_j);  l = l·e^(m−m') + e^(s_j−m');  acc = acc·e^(m−m') + e^(s_j−m')·v_j
//   o = acc / l,  lse = m + log l   (rows with no visible key: o = 0, lse = 0)
// so every key and value is read from memory once per workgroup instead of once per row. Tiles past
// the block's last visible key (the causal limit of its last query, the key length) are skipped.
// The outputs (O, LSE) are the row kernels' bit layout, so any backward runs on them.
// Workgroup memory is sized for WebGPU's guaranteed 16 KiB (flashTile). Invocations past the last
// query shadow it (they must reach every barrier) and do not write.
// Grid: (ceil(T / FLASH_ROWS), H, B).
import { kernel, type Kernel } from '../kernel.ts';
import { ATTN_FWD_BINDINGS, ATTN_HELPERS, ATTN_PARAMS, FWD_ROW_STATE, FWD_ROW_WRITE, ONLINE_SOFTMAX_STEP } from './common.ts';

/** Query rows (forward, dQ) or key rows (dK/dV) per workgroup of the flash kernels: one per invocation. */
export const FLASH_ROWS = 64;

/** Rows of a tile of `arrays` head-dim rows (+ `extra` bytes per row) that fit 16 KiB, at most 64. */
export function flashTile(Dh: number, arrays: number, extra = 0): number {
  return Math.max(1, Math.min(64, Math.floor(16384 / (arrays * Dh * 4 + extra))));
}

/**
 * WGSL that copies rows [r0, r0 + n) of each (array, base) pair into the workgroup tiles `tile`
 * (row r of the tile at r·DH4): `base(row)` is the WGSL offset of a row; rows ≥ `limit` read as zero.
 * `extra` is more WGSL that writes workgroup memory. Preceded and followed by a barrier so the tiles are
 * never read and written at once.
 */
export function stageTiles(copies: { src: string; tile: string }[], n: number, DH4: number, r0: string, limit: string, base: (row: string) => string, extra = ''): string {
  return `workgroupBarrier();
    for (var t = lid; t < ${n * DH4}u; t += ${FLASH_ROWS}u) {
      let r = ${r0} + t / ${DH4}u;
      let at = ${base(`min(r, ${limit} - 1u)`)} + t % ${DH4}u;
      ${copies.map((c) => `${c.tile}[t] = select(vec4<f32>(0.0), ${c.src}[at], r < ${limit});`).join('\n      ')}
    }
    ${extra}
    workgroupBarrier();`;
}

/**
 * A flash kernel with one query row per invocation that streams K and V tiles of BK keys (forward,
 * dQ): `state` declares the row's registers (i, h, b given), `step` handles key j of the tile (vec4 d
 * of its rows: kt[ko + d], vt[ko + d]), `write` stores the row. Grid: (ceil(T / FLASH_ROWS), H, B).
 */
export function flashQueryKernel(name: string, Dh: number, bindings: string, access: Kernel['bindings'], state: string, step: string, write: string): Kernel {
  const DH4 = Dh / 4;
  const BK = flashTile(Dh, 2);
  return kernel(
    `${name}_d${Dh}`,
    /* wgsl */ `
${ATTN_PARAMS}
${bindings}
${ATTN_HELPERS(DH4)}
var<workgroup> kt: array<vec4<f32>, ${BK * DH4}>;
var<workgroup> vt: array<vec4<f32>, ${BK * DH4}>;
@compute @workgroup_size(${FLASH_ROWS})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i0 = wid.x * ${FLASH_ROWS}u;
  let i = min(i0 + lid, p.T - 1u);
  let h = wid.y;
  let b = wid.z;
  ${state}
  // the block's last query sees the most keys: the tile loop's bound, the same for every invocation
  let endAll = keyEnd(b, min(i0 + ${FLASH_ROWS - 1}u, p.T - 1u));
  for (var j0 = 0u; j0 < endAll; j0 += ${BK}u) {
    ${stageTiles([{ src: 'k', tile: 'kt' }, { src: 'v', tile: 'vt' }], BK, DH4, 'j0', 'p.S', (r) => `kBase(b, ${r}, hk)`)}
    let n = min(end, j0 + ${BK}u);
    for (var j = j0; j < n; j++) {
      let ko = (j - j0) * DH4;
      ${step}
    }
  }
  if (i0 + lid < p.T) {
    ${write}
  }
}`,
    access,
  );
}

export function attentionForwardFlash(Dh: number): Kernel {
  const DH4 = Dh / 4;
  const step = ONLINE_SOFTMAX_STEP(DH4, (d) => `kt[ko + ${d}u]`, (d) => `vt[ko + ${d}u]`);
  return flashQueryKernel('attention_fwd_flash', Dh, ATTN_FWD_BINDINGS, ['r', 'r', 'r', 'r', 'rw', 'rw'], FWD_ROW_STATE(DH4), step, FWD_ROW_WRITE(DH4));
}
