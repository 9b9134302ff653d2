// RMSNorm / LayerNorm over the last axis, viewed as [rows, D]. One invocation per row: it streams
// its row (vec4 loads when D % 4 == 0) with registers only, which is what lavapipe runs fastest;
// the weight/bias gradients are column sums, one invocation per (vec4) column looping over rows so
// that neighbouring invocations read neighbouring memory.
//   rms:   y = x·r·w,          r = 1/sqrt(mean(x²) + eps)                stats[row] = r
//   layer: y = (x−μ)·r·w + b,  r = 1/sqrt(mean((x−μ)²) + eps)            stats[row] = (μ, r)
import { kernel, type Kernel, memoKernel } from '../kernel.ts';

export type NormKind = 'rms' | 'layer';
export const NORM_WG = 64;

/** Scalar or vec4 element type; hsum adds a vector's lanes. */
function types(vec: boolean): string {
  return vec
    ? 'alias V = vec4<f32>;\nfn hsum(v: V) -> f32 { return v.x + v.y + v.z + v.w; }'
    : 'alias V = f32;\nfn hsum(v: V) -> f32 { return v; }';
}

const HEAD = `struct P { rows: u32, dv: u32, d: u32, eps: f32 }
@group(0) @binding(0) var<uniform> p: P;`;

/** Forward: bindings x, w, [b], y, stats. p.dv = row length in V units, p.d = D. */
export const normForward = memoKernel(function normForward(kind: NormKind, vec: boolean): Kernel {
  const layer = kind === 'layer';
  const body = layer
    ? `
  var s = V(0.0);
  for (var k = 0u; k < p.dv; k++) { s += x[base + k]; }
  let mu = hsum(s) / f32(p.d);
  var q = V(0.0);
  for (var k = 0u; k < p.dv; k++) { let c = x[base + k] - V(mu); q += c * c; }
  let r = 1.0 / sqrt(hsum(q) / f32(p.d) + p.eps);
  for (var k = 0u; k < p.dv; k++) { y[base + k] = (x[base + k] - V(mu)) * r * w[k] + b[k]; }
  stats[2u * row] = mu;
  stats[2u * row + 1u] = r;`
    : `
  var q = V(0.0);
  for (var k = 0u; k < p.dv; k++) { let v = x[base + k]; q += v * v; }
  let r = 1.0 / sqrt(hsum(q) / f32(p.d) + p.eps);
  for (var k = 0u; k < p.dv; k++) { y[base + k] = x[base + k] * r * w[k]; }
  stats[row] = r;`;
  let bi = 1;
  const bind = (name: string, rw: boolean, t: string) =>
    `@group(0) @binding(${bi++}) var<storage, ${rw ? 'read_write' : 'read'}> ${name}: array<${t}>;`;
  const decls = [bind('x', false, 'V'), bind('w', false, 'V'), ...(layer ? [bind('b', false, 'V')] : []), bind('y', true, 'V'), bind('stats', true, 'f32')];
  return kernel(
    `${kind}norm_fwd_${vec ? 'v4' : 's'}`,
    /* wgsl */ `
${HEAD}
${decls.join('\n')}
${types(vec)}
@compute @workgroup_size(${NORM_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let row = gid.x + gid.y * nw.x * ${NORM_WG}u;
  if (row >= p.rows) { return; }
  let base = row * p.dv;${body}
}`,
    layer ? ['r', 'r', 'r', 'rw', 'rw'] : ['r', 'r', 'rw', 'rw'],
  );
});

/** Input gradient, with x̂ the normalised row and g = dy·w:
 *   rms:   dx = r·(g − x̂·mean(g·x̂))
 *   layer: dx = r·(g − mean(g) − x̂·mean(g·x̂))
 * Bindings x, w, stats, dy, dx. */
export const normBackwardX = memoKernel(function normBackwardX(kind: NormKind, vec: boolean): Kernel {
  const layer = kind === 'layer';
  const xhat = layer ? '(x[base + k] - V(mu)) * r' : 'x[base + k] * r';
  return kernel(
    `${kind}norm_bwd_x_${vec ? 'v4' : 's'}`,
    /* wgsl */ `
${HEAD}
@group(0) @binding(1) var<storage, read> x: array<V>;
@group(0) @binding(2) var<storage, read> w: array<V>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read> dy: array<V>;
@group(0) @binding(5) var<storage, read_write> dx: array<V>;
${types(vec)}
@compute @workgroup_size(${NORM_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let row = gid.x + gid.y * nw.x * ${NORM_WG}u;
  if (row >= p.rows) { return; }
  let base = row * p.dv;
  ${layer ? 'let mu = stats[2u * row];\n  let r = stats[2u * row + 1u];' : 'let r = stats[row];'}
  var sg = V(0.0);
  var sgx = V(0.0);
  for (var k = 0u; k < p.dv; k++) {
    let g = dy[base + k] * w[k];
    sg += g;
    sgx += g * ${xhat};
  }
  let mg = ${layer ? 'hsum(sg) / f32(p.d)' : '0.0'};
  let mgx = hsum(sgx) / f32(p.d);
  for (var k = 0u; k < p.dv; k++) {
    let g = dy[base + k] * w[k];
    dx[base + k] = r * (g - V(mg) - ${xhat} * mgx);
  }
}`,
    ['r', 'r', 'r', 'r', 'rw'],
  );
});

/** Parameter gradients: dw = Σ_rows dy·x̂ (and for layer db = Σ_rows dy), one invocation per column.
 * Bindings x, stats, dy, dw[, db]. */
export const normBackwardW = memoKernel(function normBackwardW(kind: NormKind, vec: boolean): Kernel {
  const layer = kind === 'layer';
  return kernel(
    `${kind}norm_bwd_w_${vec ? 'v4' : 's'}`,
    /* wgsl */ `
${HEAD}
@group(0) @binding(1) var<storage, read> x: array<V>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<V>;
@group(0) @binding(4) var<storage, read_write> dw: array<V>;
${layer ? '@group(0) @binding(5) var<storage, read_write> db: array<V>;' : ''}
${types(vec)}
@compute @workgroup_size(${NORM_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let c = gid.x + gid.y * nw.x * ${NORM_WG}u;
  if (c >= p.dv) { return; }
  var aw = V(0.0);
  var ab = V(0.0);
  for (var row = 0u; row < p.rows; row++) {
    let i = row * p.dv + c;
    let g = dy[i];
    ${layer ? 'aw += g * (x[i] - V(stats[2u * row])) * stats[2u * row + 1u];\n    ab += g;' : 'aw += g * x[i] * stats[row];'}
  }
  dw[c] = aw;
  ${layer ? 'db[c] = ab;' : ''}
}`,
    layer ? ['r', 'r', 'r', 'rw', 'rw'] : ['r', 'r', 'r', 'rw'],
  );
});
