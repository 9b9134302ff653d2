// RMSNorm / LayerNorm backward for rows longer than the subgroup kernel holds in registers
// (kernels/norm/subgroup.ts), D % 4 = 0, in two passes instead of rows.ts's two kernels:
//   normRowCoefs: one invocation per row, the row's means (g = dy·w, x̂ the normalised row)
//     rms: coef[row] = mean(g·x̂)        layer: coef[row] = (mean(g), mean(g·x̂))
//     by rows.ts normBackwardX's first loop, in its order (so dx keeps its bits);
//   normBackwardSegments: one invocation per (segment of rows, vec4 column): for its rows
//     dx = r·(g − mean(g) − x̂·mean(g·x̂))   (rows.ts's expression; rms: mean(g) = 0)
//     and the segment's partial column sums part[seg, c] = Σ dy·x̂ (layer: part[seg, 2c + 1] = Σ dy),
//     laid out as normSumParts (kernels/norm/subgroup.ts) adds them.
// rows.ts streams each row twice per invocation (its lanes 4·D bytes apart) and walks all rows for
// each column of dw; here a subgroup's lanes read neighbouring columns of one row, and a column's walk
// is one short segment (as the column sums of engine/ops/reduce.ts columnChunkCount). Measured on
// lavapipe (2026-12-05, GPU ms per rmsNorm backward with dx and dw, median of 5 alternating rounds, row
// kernels → segments of 16 / 32 / 64 / 128 rows): 2048 × 896 4.3–4.7 → 3.71 / 3.29 / 3.23 / 3.31,
// 512 × 4096 5.1–5.7 → 4.25 / 4.26 / 3.83–3.95 / 4.06, 4096 × 512 5.2–6.2 → 4.09 / 4.11 / 3.63–3.88 /
// 4.02, 1024 × 512 1.5–1.6 → 1.43 (32) / 1.32 (64). Of the 64-row form's time at 2048 × 896 the row
// means take ≈ 1.5 ms, the segments ≈ 2.2 and the partials' sum 0.2.
import { kernel, type Kernel, memoKernel } from '../kernel.ts';
import { NORM_WG, type NormKind } from './rows.ts';

/** Rows per segment of normBackwardSegments. */
export const NORM_SEG_ROWS = 64;

/** Bindings x, w, stats, dy, coef. Params rows, dv (= D / 4), d. */
export const normRowCoefs = memoKernel(function normRowCoefs(kind: NormKind): Kernel {
  const layer = kind === 'layer';
  const xhat = layer ? '(x[base + k] - vec4<f32>(mu)) * r' : 'x[base + k] * r';
  return kernel(
    `${kind}norm_bwd_coefs`,
    /* wgsl */ `
struct P { rows: u32, dv: u32, d: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> coef: array<f32>;
fn hsum(v: vec4<f32>) -> f32 { return v.x + v.y + v.z + v.w; }
@compute @workgroup_size(${NORM_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let row = gid.x + gid.y * nw.x * ${NORM_WG}u;
  if (row >= p.rows) { return; }
  let base = row * p.dv;
  ${layer ? 'let mu = stats[2u * row];\n  let r = stats[2u * row + 1u];' : 'let r = stats[row];'}
  var sg = vec4<f32>(0.0);
  var sgx = vec4<f32>(0.0);
  for (var k = 0u; k < p.dv; k++) {
    let g = dy[base + k] * w[k];
    sg += g;
    sgx += g * ${xhat};
  }
  ${layer ? 'coef[2u * row] = hsum(sg) / f32(p.d);\n  coef[2u * row + 1u] = hsum(sgx) / f32(p.d);' : 'coef[row] = hsum(sgx) / f32(p.d);'}
}`,
    ['r', 'r', 'r', 'r', 'rw'],
  );
});

/**
 * Bindings x, w, stats, coef, dy, dx, part (a dummy where not wanted). Params rows, dv, seg (rows per
 * segment), segs. accumulate: dx += (autograd's sum of a second gradient into the first; each element
 * is dx + the value, the sum the separate add kernel forms).
 */
export const normBackwardSegments = memoKernel(function normBackwardSegments(kind: NormKind, wantDx: boolean, wantW: boolean, accumulate: boolean): Kernel {
  if (!wantDx && !wantW) throw new Error('normBackwardSegments: nothing to compute');
  const layer = kind === 'layer';
  return kernel(
    `${kind}norm_bwd_segments${wantDx ? '_dx' : ''}${wantW ? '_dw' : ''}${accumulate ? '_acc' : ''}`,
    /* wgsl */ `
struct P { rows: u32, dv: u32, seg: u32, segs: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read> coef: array<f32>;
@group(0) @binding(5) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> dx: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> part: array<vec4<f32>>;
@compute @workgroup_size(${NORM_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let o = gid.x + gid.y * nw.x * ${NORM_WG}u;
  let s = o / p.dv;
  if (s >= p.segs) { return; }
  let c = o - s * p.dv;
  let r0 = s * p.seg;
  let r1 = min(r0 + p.seg, p.rows);
  let wc = w[c];
  var aw = vec4<f32>(0.0);
  var ab = vec4<f32>(0.0);
  for (var row = r0; row < r1; row++) {
    let i = row * p.dv + c;
    ${layer ? 'let mu = stats[2u * row];\n    let r = stats[2u * row + 1u];' : 'let r = stats[row];'}
    let xh = ${layer ? '(x[i] - vec4<f32>(mu)) * r' : 'x[i] * r'};
    let g0 = dy[i];${wantDx ? `
    let g = g0 * wc;
    let v = r * (g - vec4<f32>(${layer ? 'coef[2u * row]' : '0.0'}) - xh * ${layer ? 'coef[2u * row + 1u]' : 'coef[row]'});
    dx[i] = ${accumulate ? 'dx[i] + v' : 'v'};` : ''}${wantW ? `
    aw += g0 * xh;${layer ? '\n    ab += g0;' : ''}` : ''}
  }${wantW ? `
  ${layer ? 'part[(s * p.dv + c) * 2u] = aw;\n  part[(s * p.dv + c) * 2u + 1u] = ab;' : 'part[s * p.dv + c] = aw;'}` : ''}
}`,
    ['r', 'r', 'r', 'r', 'r', 'rw', 'rw'],
  );
});
