// Softmax / log-softmax rows for adapters whose subgroups are SIMD lanes of a CPU (lavapipe): one
// subgroup per row, the lanes striding it in vec4 (when the row length is a multiple of 4), the
// row's max and sum combined with subgroupMax / subgroupAdd (register permutes, no workgroup memory
// or barriers). Every load on lavapipe costs each lane ≈ 9 instructions per float (an exp about
// 2.5), so the forward reads x twice, not three times: the first pass keeps a running max and a sum
// rescaled to it (online softmax), the second writes.
//   pass 1 per lane: m' = max(m, v), s = s·e^(m−m') + e^(v−m');  then M = max over lanes,
//   S = Σ_lanes s·e^(m−M);   softmax: y = e^(x−M) / S;   log-softmax: y = x − M − log S
//   backward: softmax dx = y ⊙ (g − Σ g⊙y);  log-softmax dx = g − e^y · Σ g
// Rows past the last are computed clamped and not written. Workgroup: WG lanes = WG / SG rows.
import { kernel, type Kernel, memoKernel } from '../kernel.ts';
import type { SoftmaxKind } from './rows.ts';

export const SM_SUBGROUP_WG = 64;
const NEG_MAX = '-3.4028234663852886e38';

export const softmaxSubgroupKernel = memoKernel(function softmaxSubgroupKernel(kind: SoftmaxKind, pass: 'fwd' | 'bwd', vec4: boolean, SG: number): Kernel {
  const T = vec4 ? 'vec4<f32>' : 'f32';
  const hsum = vec4 ? 'fn hsum(v: vec4<f32>) -> f32 { return v.x + v.y + v.z + v.w; }' : 'fn hsum(v: f32) -> f32 { return v; }';
  const hmax = vec4 ? 'fn hmax(v: vec4<f32>) -> f32 { return max(max(v.x, v.y), max(v.z, v.w)); }' : 'fn hmax(v: f32) -> f32 { return v; }';
  const loop = `for (var k = lane; k < n; k += ${SG}u)`;
  const fwd = `
  var m = ${T}(${NEG_MAX});
  var s = ${T}(0.0);
  ${loop} {
    let v = x[base + k];
    let mn = max(m, v);
    s = s * exp(m - mn) + exp(v - mn);
    m = mn;
  }
  let M = subgroupMax(hmax(m));
  let S = subgroupAdd(hsum(s * exp(m - ${T}(M))));
  ${
    kind === 'softmax'
      ? `let inv = 1.0 / S;
  if (valid) { ${loop} { y[base + k] = exp(x[base + k] - ${T}(M)) * inv; } }`
      : `let ls = M + log(S);
  if (valid) { ${loop} { y[base + k] = x[base + k] - ${T}(ls); } }`
  }`;
  const bwd = `
  var s = ${T}(0.0);
  ${loop} { s += ${kind === 'softmax' ? 'g[base + k] * y[base + k]' : 'g[base + k]'}; }
  let S = ${T}(subgroupAdd(hsum(s)));
  if (valid) {
    ${loop} { ${kind === 'softmax' ? 'dx[base + k] = y[base + k] * (g[base + k] - S);' : 'dx[base + k] = g[base + k] - exp(y[base + k]) * S;'} }
  }`;
  const decls =
    pass === 'fwd'
      ? `@group(0) @binding(1) var<storage, read> x: array<${T}>;
@group(0) @binding(2) var<storage, read_write> y: array<${T}>;`
      : `@group(0) @binding(1) var<storage, read> y: array<${T}>;
@group(0) @binding(2) var<storage, read> g: array<${T}>;
@group(0) @binding(3) var<storage, read_write> dx: array<${T}>;`;
  return kernel(
    `${kind}_${pass}_subgroup${vec4 ? '_vec4' : ''}_sg${SG}`,
    /* wgsl */ `enable subgroups;
diagnostic(off, subgroup_uniformity);
struct P { rows: u32, len: u32 }
@group(0) @binding(0) var<uniform> p: P;
${decls}
${hsum}
${hmax}
@compute @workgroup_size(${SM_SUBGROUP_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) li: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let row0 = (wid.x + wid.y * nw.x) * ${SM_SUBGROUP_WG / SG}u + li / ${SG}u;
  let valid = row0 < p.rows;
  let row = min(row0, p.rows - 1u);
  let n = ${vec4 ? 'p.len / 4u' : 'p.len'};
  let base = row * n;
  ${pass === 'fwd' ? fwd : bwd}
}`,
    pass === 'fwd' ? ['r', 'rw'] : ['r', 'r', 'rw'],
  );
});
