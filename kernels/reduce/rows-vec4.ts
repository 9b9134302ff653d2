// Reduction of contiguous row segments in vec4 without workgroup memory or barriers (on lavapipe each
// barrier suspends and resumes every SIMD chunk). Task t = (row, chunk) reduces floats
// [chunk·seg, min(chunk·seg + seg, len)) of row t / chunks, walked by L lanes:
//   L = SG (a subgroup per task): the lanes read the segment's aligned vec4 interior side by side
//     (neighbouring lanes, neighbouring vec4, U vec4 per lane per step) and subgroupAdd /
//     subgroupMax combine them; lanes 0–2 pick up the ≤ 3 floats before and after the interior;
//   L = 1 (an invocation per task): the one lane walks the interior and the ends itself (short rows:
//     no lane idles and no subgroup combine per row).
// Rows of any length and offset read vec4 this way; `aligned` kernels (every segment starts and ends
// on a vec4) skip the ends. chunks = 1 reduces whole rows (`split` = false: no division per task);
// chunks > 1 writes partials [rows, chunks] that a second launch with chunks = 1 reduces (sumAll,
// few long rows: enough tasks for every adapter thread).
// max propagates NaN (as Math.max): WGSL max() is unspecified for NaN, so a NaN flag (a test of the
// bits) rides along.
// Tasks past the last are computed clamped and not written. Workgroup: WG lanes = WG / L tasks.
import { kernel, type Kernel, memoKernel } from '../kernel.ts';
import { NAN_TESTS, type ReduceKind } from './axis.ts';

export const RED_ROWS_WG = 64;


/**
 * kind 'mean' divides by p.div (the full row length, also when this launch adds partials).
 * Params: tasks (rows·chunks), len, seg, chunks, div. Bindings: x as vec4 (the pool's buffers hold
 * whole vec4s, so the last partial vec4 of a tensor is in bounds; floats outside the segment are
 * never added), y.
 */
export const reduceRowsVec4 = memoKernel(function reduceRowsVec4(kind: ReduceKind, L: number, U: number, aligned: boolean, split: boolean): Kernel {
  const isMax = kind === 'max';
  const sub = L > 1;
  const init = isMax ? 'bitcast<f32>(NEG_INF_BITS)' : '0.0';
  const comb = (a: string, v: string) => (isMax ? `max(${a}, ${v})` : `${a} + ${v}`);
  const range = (n: number) => [...Array(n).keys()];
  const lanes = range(U);
  const flag4 = (v: string) => (isMax ? ` bad4 = bad4 | nan4(${v});` : '');
  // the floats [from, to) one at a time: lanes 0–2 take one each (a subgroup), or the lane loops
  const ends = (from: string, to: string) =>
    sub
      ? `if (${from} + lane < ${to}) {
    let f = x[(${from} + lane) / 4u][(${from} + lane) % 4u];${isMax ? '\n    bad = bad || nan1(f);' : ''}
    s = ${comb('s', 'f')};
  }`
      : `for (var j = ${from}; j < ${to}; j++) {
    let f = x[j / 4u][j % 4u];${isMax ? '\n    bad = bad || nan1(f);' : ''}
    s = ${comb('s', 'f')};
  }`;
  const name = `reduce_${kind}_rows_vec4_${sub ? `sg${L}` : 'thread'}_u${U}${aligned ? '_aligned' : ''}${split ? '_split' : ''}`;
  return kernel(
    name,
    /* wgsl */ `${sub ? 'enable subgroups;\ndiagnostic(off, subgroup_uniformity);' : ''}
struct P { tasks: u32, len: u32, seg: u32, chunks: u32, div: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
// run-time −∞ and NaN (constant ones are WGSL compile errors); −∞ is max's identity, as in Math.max
var<private> NEG_INF_BITS: u32 = 0xff800000u;
var<private> NAN_BITS: u32 = 0x7fc00000u;
${isMax ? NAN_TESTS : ''}
@compute @workgroup_size(${RED_ROWS_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) li: u32${sub ? ', @builtin(subgroup_invocation_id) lane: u32' : ''}) {
  let t0 = (wid.x + wid.y * nw.x) * ${RED_ROWS_WG / L}u + li${sub ? ` / ${L}u` : ''};
  let valid = t0 < p.tasks;
  let t = min(t0, p.tasks - 1u);
  ${
    split
      ? `let row = t / p.chunks;
  let c0 = (t - row * p.chunks) * p.seg;
  let s0 = row * p.len + c0;
  let e0 = row * p.len + min(c0 + p.seg, p.len);`
      : `let s0 = t * p.len;
  let e0 = s0 + p.len;`
  }
  ${
    aligned
      ? `let a4 = s0 / 4u;
  let b4 = e0 / 4u;`
      : `let a4 = (s0 + 3u) / 4u;
  let b4 = max(e0 / 4u, a4);
  let h = min(a4 * 4u, e0);
  let tl = max(b4 * 4u, h);`
  }
${lanes.map((u) => `  var acc${u} = vec4<f32>(${init});`).join('\n')}
  ${isMax ? 'var bad4 = vec4<bool>(false);' : ''}
  var k = a4${sub ? ' + lane' : ''};
  for (; k + ${(U - 1) * L}u < b4; k += ${U * L}u) {
${lanes.map((u) => `    let v${u} = x[k + ${u * L}u];${flag4(`v${u}`)}`).join('\n')}
${lanes.map((u) => `    acc${u} = ${comb(`acc${u}`, `v${u}`)};`).join('\n')}
  }
${range(U - 1)
  .map((u) => `  if (k + ${u * L}u < b4) { let v = x[k + ${u * L}u];${flag4('v')} acc${u} = ${comb(`acc${u}`, 'v')}; }`)
  .join('\n')}
  var a = acc0;
${range(U - 1)
  .map((u) => `  a = ${comb('a', `acc${u + 1}`)};`)
  .join('\n')}
  var s = ${isMax ? 'max(max(a.x, a.y), max(a.z, a.w))' : '(a.x + a.y) + (a.z + a.w)'};
  ${isMax ? 'var bad = any(bad4);' : ''}
  ${aligned ? '' : ends('s0', 'h')}
  ${aligned ? '' : ends('tl', 'e0')}
  ${
    isMax
      ? sub
        ? `let anyBad = subgroupMax(select(0u, 1u, bad)) != 0u;
  var r = select(subgroupMax(s), bitcast<f32>(NAN_BITS), anyBad);`
        : 'var r = select(s, bitcast<f32>(NAN_BITS), bad);'
      : sub
        ? 'var r = subgroupAdd(s);'
        : 'var r = s;'
  }
  ${kind === 'mean' ? 'r = r / p.div;' : ''}
  if (valid${sub ? ' && lane == 0u' : ''}) { y[t] = r; }
}`,
    ['r', 'rw'],
  );
});
