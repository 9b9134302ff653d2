// Softmax / log-softmax rows with one invocation per row reading it in vec4 (rows of a multiple of 4),
// for CPU adapters: on lavapipe a lane walking its own row keeps its loads in its own cache lines and
// needs no subgroup combine. The forward reads x twice and takes two exps per element: the first pass
// keeps, per vec4 component, a reference m and a sum s of e^(x − m), moving m (and rescaling s) only
// when an element exceeds it by more than 16, so the pass costs one exp per element, not the two of
// an online softmax that follows every new maximum (e^(x − m) ≤ e^16 cannot overflow; for a row of
// random logits m moves at its first element and almost never again):
//   pass 1:  d = x − m;  d > 16 anywhere: m' = max(m, x), s = s·e^(m−m') + e^(x−m'), m = m';
//            else s += e^d;      then M = max(m), S = Σ s·e^(m−M)
//   pass 2:  softmax y = e^(x−M) / S;   log-softmax y = x − M − log S
//   backward: softmax dx = y ⊙ (g − Σ g⊙y);  log-softmax dx = g − e^y · Σ g
// GPU ms for 4096 rows of 1024 (scratch A/B, median of 5 rounds, 2026-12-06): 6.1, against 7.9 for a
// subgroup per row (online softmax, kernels/softmax/subgroup.ts) and 6.8 for a thread with a max pass.
// Rows past the last are computed clamped and not written.
import { kernel, type Kernel, memoKernel } from '../kernel.ts';
import type { SoftmaxKind } from './rows.ts';

export const SM_THREAD_VEC4_WG = 64;
/** How far past the reference an element may lie before the reference moves (e^16 ≈ 8.9e6). */
export const SM_LAZY_MAX_STEP = 16;
const NEG_MAX = '-3.4028234663852886e38';

export const softmaxThreadVec4Kernel = memoKernel(function softmaxThreadVec4Kernel(kind: SoftmaxKind, pass: 'fwd' | 'bwd'): Kernel {
  const fwd = `
  var m = vec4<f32>(${NEG_MAX});
  var s = vec4<f32>(0.0);
  for (var k = 0u; k < n; k++) {
    let v = x[base + k];
    let d = v - m;
    if (any(d > vec4<f32>(${SM_LAZY_MAX_STEP}.0))) {
      let mn = max(m, v);
      s = s * exp(m - mn) + exp(v - mn);
      m = mn;
    } else {
      s += exp(d);
    }
  }
  let M = max(max(m.x, m.y), max(m.z, m.w));
  let sv = s * exp(m - vec4<f32>(M));
  let S = (sv.x + sv.y) + (sv.z + sv.w);
  ${
    kind === 'softmax'
      ? `let inv = 1.0 / S;
  if (valid) { for (var k = 0u; k < n; k++) { y[base + k] = exp(x[base + k] - vec4<f32>(M)) * inv; } }`
      : `let ls = vec4<f32>(M + log(S));
  if (valid) { for (var k = 0u; k < n; k++) { y[base + k] = x[base + k] - ls; } }`
  }`;
  const bwd = `
  var s = vec4<f32>(0.0);
  for (var k = 0u; k < n; k++) { s += ${kind === 'softmax' ? 'g[base + k] * y[base + k]' : 'g[base + k]'}; }
  let S = vec4<f32>((s.x + s.y) + (s.z + s.w));
  if (valid) {
    for (var k = 0u; k < n; k++) { ${kind === 'softmax' ? 'dx[base + k] = y[base + k] * (g[base + k] - S);' : 'dx[base + k] = g[base + k] - exp(y[base + k]) * S;'} }
  }`;
  const decls =
    pass === 'fwd'
      ? `@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<f32>>;`
      : `@group(0) @binding(1) var<storage, read> y: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dx: array<vec4<f32>>;`;
  return kernel(
    `${kind}_${pass}_thread_vec4`,
    /* wgsl */ `
struct P { rows: u32, len: u32 }
@group(0) @binding(0) var<uniform> p: P;
${decls}
@compute @workgroup_size(${SM_THREAD_VEC4_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let row0 = gid.x + gid.y * nw.x * ${SM_THREAD_VEC4_WG}u;
  let valid = row0 < p.rows;
  let row = min(row0, p.rows - 1u);
  let n = p.len / 4u;
  let base = row * n;
  ${pass === 'fwd' ? fwd : bwd}
}`,
    pass === 'fwd' ? ['r', 'rw'] : ['r', 'r', 'rw'],
  );
});
