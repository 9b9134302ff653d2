// RMSNorm / LayerNorm backward for adapters whose subgroups are SIMD lanes of a CPU (lavapipe), rows
// of at most 4·8·SG floats with D % 4 = 0 (the models' D = 64 … 256): one subgroup walks RB rows, a
// lane holding J = ⌈D/(4·SG)⌉ vec4 columns of each row in registers, computing dx (row sums by
// subgroupAdd) and, in the same pass, the subgroup's partial column sums of dw = Σ dy·x̂ (and
// db = Σ dy) over its RB rows, written to part[subgroup, D(, 2)]; normSumParts adds the partials in
// subgroup order (a different summation order than rows.ts: within f32 rounding). rows.ts reads x
// and dy a second time for dw, in a pass with one invocation per column (16 for D = 64: one thread).
// Rows past the last are computed clamped and not written (their partials count zero).
// (A forward of the same shape, x and the weight held in registers, measured slower than rows.ts's:
// 8192 × 64, adapter-thread CPU 1.12–1.18 vs 0.96–1.09 ms.)
import { kernel, type Kernel, memoKernel } from '../kernel.ts';
import type { NormKind } from './rows.ts';

export const NORM_SG_WG = 64;
/** Rows one subgroup walks. */
export const NORM_SG_ROWS = 8;

const range = (n: number) => [...Array(n).keys()];
const HEAD = (SG: number) => `enable subgroups;
struct P { rows: u32, dv: u32, d: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: P;
fn hsum(v: vec4<f32>) -> f32 { return v.x + v.y + v.z + v.w; }
const SG: u32 = ${SG}u;`;

/** vec4 columns per lane for rows of dv vec4. */
export const normLanes = (dv: number, SG: number) => Math.ceil(dv / SG);

/** The subgroup and lane set-up shared by both passes: rows [r0, r0 + RB), column slots j·SG + lane. */
function prologue(J: number): string {
  return `let sub = (wid.x + wid.y * nw.x) * ${NORM_SG_WG}u / SG + li / SG;
  let r0 = sub * ${NORM_SG_ROWS}u;
${range(J).map((j) => `  let c${j} = min(${j}u * SG + lane, p.dv - 1u);\n  let on${j} = ${j}u * SG + lane < p.dv;`).join('\n')}`;
}

const BUILTINS = `@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) lane: u32`;

/**
 * Backward for rows of dv vec4: dx (x̂ the normalised row, g = dy·w)
 *   rms:   dx = r·(g − x̂·mean(g·x̂))          layer: dx = r·(g − mean(g) − x̂·mean(g·x̂))
 * and this subgroup's partial column sums part[sub, c] = Σ_rows dy·x̂ (layer: part[sub, 2c + 1] = Σ dy;
 * dw partials then sit at even vec4 slots). Bindings x, w, stats, dy, dx, part (a dummy for what is not wanted).
 * accumulate: dx += instead of dx = (autograd's sum of a second gradient into the first; each element
 * is dx + the value, the sum the separate add kernel forms).
 */
export const normBackwardSubgroup = memoKernel(function normBackwardSubgroup(kind: NormKind, dv: number, SG: number, wantDx: boolean, wantW: boolean, accumulate: boolean): Kernel {
  if (!wantDx && !wantW) throw new Error('normBackwardSubgroup: nothing to compute');
  const layer = kind === 'layer';
  const J = normLanes(dv, SG);
  const xhat = (j: number) => (layer ? `(x${j} - vec4<f32>(mu)) * r` : `x${j} * r`);
  const partIdx = (j: number, which: number) => (layer ? `(sub * p.dv + c${j}) * 2u + ${which}u` : `sub * p.dv + c${j}`);
  return kernel(
    `${kind}norm_bwd_subgroup_dv${dv}${wantDx ? '' : '_wonly'}${wantW ? '' : '_xonly'}${accumulate ? '_acc' : ''}_sg${SG}`,
    /* wgsl */ `${HEAD(SG)}
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> dx: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> part: array<vec4<f32>>;
@compute @workgroup_size(${NORM_SG_WG})
fn main(${BUILTINS}) {
  ${prologue(J)}
${range(J).map((j) => `  let w${j} = w[c${j}];\n  var pw${j} = vec4<f32>(0.0);\n  var pb${j} = vec4<f32>(0.0);`).join('\n')}
  for (var i = 0u; i < ${NORM_SG_ROWS}u; i++) {
    let valid = r0 + i < p.rows;
    let row = min(r0 + i, p.rows - 1u);
    ${layer ? 'let mu = stats[2u * row];\n    let r = stats[2u * row + 1u];' : 'let r = stats[row];'}
    let live = select(0.0, 1.0, valid); // clamped rows add nothing to the partials
${range(J).map((j) => `    let x${j} = x[row * p.dv + c${j}];\n    let d${j} = select(vec4<f32>(0.0), dy[row * p.dv + c${j}], on${j});\n    let g${j} = d${j} * w${j};`).join('\n')}
${wantW ? range(J).map((j) => `    pw${j} += live * d${j} * ${xhat(j)};${layer ? `\n    pb${j} += live * d${j};` : ''}`).join('\n') : ''}
${
  wantDx
    ? `    let mgx = subgroupAdd(${range(J).map((j) => `hsum(g${j} * ${xhat(j)})`).join(' + ')}) / f32(p.d);
    let mg = ${layer ? `subgroupAdd(${range(J).map((j) => `hsum(g${j})`).join(' + ')}) / f32(p.d)` : '0.0'};
    if (valid) {
${range(J).map((j) => `      if (on${j}) { dx[row * p.dv + c${j}] = ${accumulate ? `dx[row * p.dv + c${j}] + ` : ''}r * (g${j} - vec4<f32>(mg) - ${xhat(j)} * mgx); }`).join('\n')}
    }`
    : ''
}
  }
${wantW ? range(J).map((j) => `  if (on${j}) { part[${partIdx(j, 0)}] = pw${j};${layer ? ` part[${partIdx(j, 1)}] = pb${j};` : ''} }`).join('\n') : ''}
}`,
    ['r', 'r', 'r', 'r', 'rw', 'rw'],
  );
});

/** dw[c] (and db[c]) = Σ_sub part[sub, c]: one invocation per vec4 column. Bindings part, dw[, db]. */
export const normSumParts = memoKernel(function normSumParts(kind: NormKind, acc: boolean): Kernel {
  const layer = kind === 'layer';
  if (acc && layer) throw new Error('normSumParts: accumulation is for rmsNorm (one gradient, dw)');
  return kernel(
    `${kind}norm_sum_parts${acc ? '_acc' : ''}`,
    /* wgsl */ `struct P { subs: u32, dv: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> part: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dw: array<vec4<f32>>;
${layer ? '@group(0) @binding(3) var<storage, read_write> db: array<vec4<f32>>;' : ''}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= p.dv) { return; }
  var aw = vec4<f32>(0.0);
  var ab = vec4<f32>(0.0);
  for (var s = 0u; s < p.subs; s++) {
    ${layer ? 'aw += part[(s * p.dv + c) * 2u];\n    ab += part[(s * p.dv + c) * 2u + 1u];' : 'aw += part[s * p.dv + c];'}
  }
  dw[c] = ${acc ? 'dw[c] + aw' : 'aw'};
  ${layer ? 'db[c] = ab;' : ''}
}`,
    layer ? ['r', 'rw', 'rw'] : ['r', 'rw'],
  );
});
