// Token-level LM cross-entropy, fused log-softmax + NLL over the full vocabulary. Forward: one
// workgroup per token row walks the vocabulary in chunks with an online log-sum-exp (running max m
// and Σ exp(z − m)), so no [N, V] probability buffer exists; it writes (w·(lse − z_target), 1) per
// row (or (0, 0) for an ignored token) and (max, log Σ) for the backward. Backward: each invocation writes
// a few vec4s of one row: dlogits = g·w·(exp(z − lse) − onehot)/norm directly. Math: engine/losses/lm-ce.ts.
import { lseMerge, lseMergeVars } from './lse-merge.ts';
import { kernel, type Kernel } from '../kernel.ts';

export const LMCE_WG = 64;

const cache = new Map<string, Kernel>();

/** WGSL: the end of a row's forward once its max `m` and log Σ exp(z − m) `ls` are known: stores
 * (m, ls) in lse[row] and (w·(lse − z_target), 1) in stats[row], (0, 0) for an ignored token, NaN
 * for a target outside [0, V). Needs p.V, p.ignore, p.hasW and the bindings logits, targets, w. */
export const lmCeRowEnd = (m: string, ls: string) => /* wgsl */ `// kept as (max, log Σ): z − max is exact in f32, while max + log Σ would round at |z| ~ 1e4
    let ls = ${ls};
    lse[row] = vec2<f32>(${m}, ls);
    let t = targets[row];
    if (t == p.ignore) {
      stats[row] = vec2<f32>(0.0, 0.0);
    } else if (t < 0 || u32(t) >= p.V) {
      var nanBits = 0x7fc00000u; // a target outside the vocabulary poisons the loss
      stats[row] = vec2<f32>(bitcast<f32>(nanBits), 1.0);
    } else {
      let wr = select(1.0, w[row], p.hasW == 1u);
      stats[row] = vec2<f32>(wr * ((${m} - logits[row * p.V + u32(t)]) + ls), 1.0);
    }`;

// vec4 loads when V % 4 == 0 (rows stay 16-byte aligned), scalar otherwise.
export function lmCeForward(vec4: boolean): Kernel {
  const key = `fwd${vec4}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const body = vec4
    ? /* wgsl */ `
  let base4 = row * (p.V / 4u);
  for (var c = lid; c < p.V / 4u; c += ${LMCE_WG}u) {
    let v = logits4[base4 + c];
    let mx = max(max(v.x, v.y), max(v.z, v.w));
    if (mx > m) { s = s * exp(m - mx); m = mx; } // rescale only when the running max grows
    let e = exp(v - vec4<f32>(m));
    s += (e.x + e.y + e.z) + e.w;
  }`
    : /* wgsl */ `
  let base = row * p.V;
  for (var c = lid; c < p.V; c += ${LMCE_WG}u) {
    let v = logits[base + c];
    if (v > m) { s = s * exp(m - v); m = v; }
    s += exp(v - m);
  }`;
  const k = kernel(
    `lm_ce_fwd${vec4 ? '_vec4' : ''}`,
    /* wgsl */ `
struct P { N: u32, V: u32, ignore: i32, hasW: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read> logits4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> targets: array<i32>;
@group(0) @binding(4) var<storage, read> w: array<f32>;
@group(0) @binding(5) var<storage, read_write> stats: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read_write> lse: array<vec2<f32>>;
${lseMergeVars(LMCE_WG)}
@compute @workgroup_size(${LMCE_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nw: vec3<u32>) {
  let row = wid.x + wid.y * nw.x;
  if (row >= p.N) { return; }
  // -max f32, not -inf: exp(m - mn) must stay 0·finite when a thread has seen nothing yet
  var m = -3.4028234663852886e38;
  var s = 0.0;
  ${body}
  ${lseMerge(LMCE_WG)}
  if (lid == 0u) {
    ${lmCeRowEnd('pm[0]', 'log(ps[0])')}
  }
}`,
    ['r', 'r', 'r', 'r', 'rw', 'rw'],
  );
  cache.set(key, k);
  return k;
}

export const LMCE_BWD_VPT = 4; // vec4 (or scalar) groups per invocation, strided by the workgroup

/** dlogits[r, c] = g·w_r·(exp(z_rc − lse_r) − [c = t_r]) / norm; rows with an ignored target get 0.
 * Grid: x over column blocks of WG·VPT vec4s (scalars when V % 4 ≠ 0), y (folded into z past
 * 65535) over rows; the per-row coefficient is loaded once per invocation. */
/** inPlace: the gradient overwrites the logits (no logits binding; dx holds z on entry). */
export function lmCeBackward(vec4: boolean, inPlace = false): Kernel {
  const key = `bwd${vec4}${inPlace}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const T = vec4 ? 'vec4<f32>' : 'f32';
  const hitExpr = vec4
    ? 'vec4<f32>(select(vec4<f32>(0.0), vec4<f32>(1.0), vec4<i32>(4 * i32(c)) + vec4<i32>(0, 1, 2, 3) == vec4<i32>(t)))'
    : 'select(0.0, 1.0, i32(c) == t)';
  // each element is read and then written by the same invocation, so overwriting is race-free
  const b0 = inPlace ? 0 : 1;
  const k = kernel(
    `lm_ce_bwd${vec4 ? '_vec4' : ''}${inPlace ? '_inplace' : ''}`,
    /* wgsl */ `
struct P { N: u32, V: u32, ignore: i32, hasW: u32, rowsPerZ: u32, cols: u32 }
@group(0) @binding(0) var<uniform> p: P;
${inPlace ? '' : `@group(0) @binding(1) var<storage, read> logits: array<${T}>;`}
@group(0) @binding(${b0 + 1}) var<storage, read> targets: array<i32>;
@group(0) @binding(${b0 + 2}) var<storage, read> w: array<f32>;
@group(0) @binding(${b0 + 3}) var<storage, read> lse: array<vec2<f32>>;
@group(0) @binding(${b0 + 4}) var<storage, read> g: array<f32>;
@group(0) @binding(${b0 + 5}) var<storage, read> norm: array<f32>;
@group(0) @binding(${b0 + 6}) var<storage, read_write> dx: array<${T}>;
@compute @workgroup_size(${LMCE_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.y + wid.z * p.rowsPerZ;
  if (row >= p.N) { return; }
  let t = targets[row];
  var coef = 0.0;
  if (t != p.ignore) { coef = g[0] * select(1.0, w[row], p.hasW == 1u) / norm[0]; }
  let l = lse[row];
  let base = row * p.cols; // p.cols = V/4 vec4s per row, or V scalars
  for (var j = 0u; j < ${LMCE_BWD_VPT}u; j++) {
    let c = wid.x * ${LMCE_WG * LMCE_BWD_VPT}u + j * ${LMCE_WG}u + lid;
    if (c >= p.cols) { break; }
    dx[base + c] = coef * (exp((${inPlace ? 'dx' : 'logits'}[base + c] - ${T}(l.x)) - ${T}(l.y)) - ${hitExpr});
  }
}`,
    inPlace ? ['r', 'r', 'r', 'r', 'r', 'rw'] : ['r', 'r', 'r', 'r', 'r', 'r', 'rw'],
  );
  cache.set(key, k);
  return k;
}
