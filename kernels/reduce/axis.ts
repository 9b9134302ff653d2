// Reduction over one axis of a tensor viewed as [outer, len, inner], scalar loads. One invocation per
// output element; for inner > 1 neighbouring invocations read neighbouring memory. Rows of the last
// axis (inner = 1) also have the row kernel: one workgroup per row with a tree reduction in workgroup
// memory. (The vec4 kernels beside these, rows-vec4.ts and strided-chunks.ts, are the defaults where
// measured; engine/ops/reduce.ts chooses.)
import { kernel, type Kernel, memoKernel } from '../kernel.ts';

export type ReduceKind = 'sum' | 'max' | 'mean';

// NaN tests on the bits: lavapipe's compiler folds v != v to false (no-NaN float math)
export const NAN_TESTS = /* wgsl */ `fn nan1(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }
fn nan4(v: vec4<f32>) -> vec4<bool> { return (bitcast<vec4<u32>>(v) & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u); }`;

// −∞ is max's identity (Math.max of −∞ rows is −∞); a run-time value: a constant −∞ is a WGSL error
const INIT: Record<ReduceKind, string> = { sum: '0.0', mean: '0.0', max: 'bitcast<f32>(NEG_INF_BITS)' };
const NEG_INF = 'var<private> NEG_INF_BITS: u32 = 0xff800000u;';
const COMBINE: Record<ReduceKind, (acc: string, v: string) => string> = {
  sum: (a, v) => `${a} + ${v}`,
  mean: (a, v) => `${a} + ${v}`,
  max: (a, v) => `max(${a}, ${v})`,
};
// max must propagate NaN like the reference (Math.max): WGSL max() is unspecified for NaN.
const NAN_GUARD = (kind: ReduceKind) =>
  kind === 'max' ? 'if (nan1(v)) { acc = v; break; }' : '';

export const reduceStrided = memoKernel(function reduceStrided(kind: ReduceKind): Kernel {
  return kernel(
    `reduce_${kind}_strided`,
    /* wgsl */ `
struct P { outer: u32, len: u32, inner: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
${NEG_INF}
${NAN_TESTS}
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let o = gid.x + gid.y * nw.x * 256u;
  if (o >= p.outer * p.inner) { return; }
  let a = o / p.inner;
  let c = o % p.inner;
  var acc: f32 = ${INIT[kind]};
  var idx = a * p.len * p.inner + c;
  for (var k = 0u; k < p.len; k++) {
    let v = x[idx];
    ${NAN_GUARD(kind)}
    acc = ${COMBINE[kind]('acc', 'v')};
    idx += p.inner;
  }
  ${kind === 'mean' ? 'acc = acc / f32(p.len);' : ''}
  y[o] = acc;
}`,
    ['r', 'rw'],
  );
});

export const ROW_WG = 64;

/** One workgroup per row (inner = 1); each thread strides the row, then a tree reduction. */
export const reduceRows = memoKernel(function reduceRows(kind: ReduceKind): Kernel {
  return kernel(
    `reduce_${kind}_rows`,
    /* wgsl */ `
struct P { rows: u32, len: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
var<workgroup> part: array<f32, ${ROW_WG}>;
${NEG_INF}
${NAN_TESTS}
@compute @workgroup_size(${ROW_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nw: vec3<u32>) {
  let row = wid.x + wid.y * nw.x;
  if (row >= p.rows) { return; }
  var acc: f32 = ${INIT[kind]};
  let base = row * p.len;
  for (var k = lid; k < p.len; k += ${ROW_WG}u) {
    let v = x[base + k];
    ${NAN_GUARD(kind)}
    acc = ${COMBINE[kind]('acc', 'v')};
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = ${ROW_WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      let o = part[lid + s];
      ${kind === 'max' ? 'let m = part[lid];\n      part[lid] = select(max(m, o), m + o, nan1(m) || nan1(o)); // NaN + anything is NaN' : 'part[lid] = part[lid] + o;'}
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    ${kind === 'mean' ? 'y[row] = part[0] / f32(p.len);' : 'y[row] = part[0];'}
  }
}`,
    ['r', 'rw'],
  );
});
