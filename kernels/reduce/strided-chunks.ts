// Reduction over the middle axis of [outer, len, inner] with W floats (1 or 4; 4 needs inner % 4 = 0)
// per invocation: neighbouring invocations own neighbouring W-wide columns, so every step of the
// loop reads contiguous memory across the lanes (vec4 loads on lavapipe, coalesced on GPUs). When
// outer·inner is small (a bias gradient: 1024 columns = 256 vec4 invocations, 4 workgroups) the
// axis is cut into `chunks` segments of `seg` rows, one invocation each, writing partials
// [outer, chunks, inner] that a second launch with chunks = 1 reduces; that gives every adapter
// thread work. U independent accumulators per invocation shorten the add chain.
// max propagates NaN (as Math.max): WGSL max() is unspecified for NaN, so a NaN flag (a test of the
// bits) rides along.
import { kernel, type Kernel, memoKernel } from '../kernel.ts';
import { NAN_TESTS, type ReduceKind } from './axis.ts';

export const RED_STRIDED_WG = 64;

/** The column kernels' parameters, bindings, run-time −∞/NaN and entry up to the invocation index o. */
const stridedHead = (T: string, isMax: boolean) => `
struct P { outer: u32, len: u32, innerW: u32, seg: u32, chunks: u32, div: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<${T}>;
@group(0) @binding(2) var<storage, read_write> y: array<${T}>;
// run-time −∞ and NaN (constant ones are WGSL compile errors); −∞ is max's identity, as in Math.max
var<private> NEG_INF_BITS: u32 = 0xff800000u;
var<private> NAN_BITS: u32 = 0x7fc00000u;
${isMax ? NAN_TESTS : ''}
@compute @workgroup_size(${RED_STRIDED_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let o = gid.x + gid.y * nw.x * ${RED_STRIDED_WG}u;`;

/** Params: outer, len, innerW (inner / W), seg, chunks, div (mean's divisor: the full axis length). */
export const reduceStridedChunks = memoKernel(function reduceStridedChunks(kind: ReduceKind, W: 1 | 4, U: number): Kernel {
  const isMax = kind === 'max';
  const T = W === 4 ? 'vec4<f32>' : 'f32';
  const B = W === 4 ? 'vec4<bool>' : 'bool';
  const comb = (a: string, v: string) => (isMax ? `max(${a}, ${v})` : `${a} + ${v}`);
  const lanes = [...Array(U).keys()];
  const flag = (v: string) => (isMax ? ` bad = bad | ${W === 4 ? 'nan4' : 'nan1'}(${v});` : '');
  return kernel(
    `reduce_${kind}_strided_chunks_w${W}_u${U}`,
    /* wgsl */ `
${stridedHead(T, isMax)}
  if (o >= p.outer * p.chunks * p.innerW) { return; }
  let ac = o / p.innerW;
  let j = o - ac * p.innerW;
  let a = ac / p.chunks;
  let k0 = (ac - a * p.chunks) * p.seg;
  let k1 = min(k0 + p.seg, p.len);
  let st = p.innerW;
  var idx = (a * p.len + k0) * st + j;
${lanes.map((u) => `  var acc${u} = ${T}(${isMax ? 'bitcast<f32>(NEG_INF_BITS)' : '0.0'});`).join('\n')}
  ${isMax ? `var bad = ${B}(false);` : ''}
  var k = k0;
  for (; k + ${U - 1}u < k1; k += ${U}u) {
${lanes.map((u) => `    let v${u} = x[idx${u ? ` + ${u}u * st` : ''}];${flag(`v${u}`)}`).join('\n')}
${lanes.map((u) => `    acc${u} = ${comb(`acc${u}`, `v${u}`)};`).join('\n')}
    idx += ${U}u * st;
  }
  for (; k < k1; k++) {
    let v = x[idx];${flag('v')}
    acc0 = ${comb('acc0', 'v')};
    idx += st;
  }
${lanes
  .slice(1)
  .map((u) => `  acc0 = ${comb('acc0', `acc${u}`)};`)
  .join('\n')}
  ${isMax ? `acc0 = select(acc0, ${T}(bitcast<f32>(NAN_BITS)), bad);` : ''}
  ${kind === 'mean' ? 'acc0 = acc0 / p.div;' : ''}
  y[o] = acc0;
}`,
    ['r', 'rw'],
  );
});

/** Lanes of a column group in reduceStridedWide: lavapipe's SIMD width (its subgroup size). */
export const RED_WIDE_LANES = 8;

/**
 * The same reduction with each invocation owning V columns (W floats each) spaced RED_WIDE_LANES
 * apart: a group of RED_WIDE_LANES neighbouring invocations reads RED_WIDE_LANES·V·W contiguous
 * floats of every row it visits (one vec4 per lane and load, side by side) instead of
 * RED_WIDE_LANES·W. On a CPU adapter a subgroup's lanes run one loop together, so a row of a wide
 * matrix (16 KiB at 4096 floats) costs it a new page per visit: wider visits mean fewer pages per
 * byte. Invocation o: group g = o / L, lane l = o % L; g → (outer·chunk ac, column block b); lane l
 * reads columns cb + v·L (cb = b·L·V + l, v < V), those past innerW clamped and not written.
 * Each column is summed as reduceStridedChunks(kind, W, 2) sums it (two accumulators over
 * alternate rows, the odd row last into the first, then their sum): the same bits for the same
 * chunks. Params as reduceStridedChunks: outer, len, innerW, seg, chunks, div.
 */
export const reduceStridedWide = memoKernel(function reduceStridedWide(kind: ReduceKind, W: 1 | 4, V: number): Kernel {
  const isMax = kind === 'max';
  const L = RED_WIDE_LANES;
  const T = W === 4 ? 'vec4<f32>' : 'f32';
  const B = W === 4 ? 'vec4<bool>' : 'bool';
  const comb = (a: string, v: string) => (isMax ? `max(${a}, ${v})` : `${a} + ${v}`);
  const cols = [...Array(V).keys()];
  const flag = (x: string, v: number) => (isMax ? ` bad${v} = bad${v} | ${W === 4 ? 'nan4' : 'nan1'}(${x});` : '');
  return kernel(
    `reduce_${kind}_strided_wide_w${W}_v${V}`,
    /* wgsl */ `
${stridedHead(T, isMax)}
  let blocks = (p.innerW + ${L * V - 1}u) / ${L * V}u;
  let g = o / ${L}u;
  if (g >= p.outer * p.chunks * blocks) { return; }
  let l = o - g * ${L}u;
  let ac = g / blocks;
  let cb = (g - ac * blocks) * ${L * V}u + l;
  let a = ac / p.chunks;
  let k0 = (ac - a * p.chunks) * p.seg;
  let k1 = min(k0 + p.seg, p.len);
  let st = p.innerW;
  var idx = (a * p.len + k0) * st;
${cols.map((v) => `  let c${v} = min(cb + ${v * L}u, st - 1u);
  var a${v} = ${T}(${isMax ? 'bitcast<f32>(NEG_INF_BITS)' : '0.0'});
  var b${v} = a${v};${isMax ? `
  var bad${v} = ${B}(false);` : ''}`).join('\n')}
  var k = k0;
  for (; k + 1u < k1; k += 2u) {
${cols.map((v) => `    let x${v} = x[idx + c${v}];${flag(`x${v}`, v)}
    let y${v} = x[idx + st + c${v}];${flag(`y${v}`, v)}`).join('\n')}
${cols.map((v) => `    a${v} = ${comb(`a${v}`, `x${v}`)};
    b${v} = ${comb(`b${v}`, `y${v}`)};`).join('\n')}
    idx += 2u * st;
  }
  if (k < k1) {
${cols.map((v) => `    let x${v} = x[idx + c${v}];${flag(`x${v}`, v)}
    a${v} = ${comb(`a${v}`, `x${v}`)};`).join('\n')}
  }
  let out = ac * st;
${cols
  .map(
    (v) => `  if (cb + ${v * L}u < st) {
    var r${v} = ${comb(`a${v}`, `b${v}`)};
    ${isMax ? `r${v} = select(r${v}, ${T}(bitcast<f32>(NAN_BITS)), bad${v});` : ''}
    ${kind === 'mean' ? `r${v} = r${v} / p.div;` : ''}
    y[out + c${v}] = r${v};
  }`,
  )
  .join('\n')}
}`,
    ['r', 'rw'],
  );
});

/**
 * The same reduction with each invocation owning V adjacent W = 4 columns (V vec4: a lane's loads of
 * a row fall in one or two cache lines) and one accumulator per column, adding the rows of its
 * segment in order. On lavapipe a load is emitted lane by lane, so what a lane reads next decides
 * what the caches see: a lane that reads 8 neighbouring vec4 of one row, then the same 128 B of the
 * next row, reads the 32-row segments of a 4096 × 4096 matrix in 5.7 ms of GPU time where 'chunks'
 * (one vec4 per lane, two rows per step) takes 7.0; 4 vec4 per lane 6.1, 16 7.4, and two rows per
 * step here 8.9 (scratch, median of 5 rounds, 2026-12-06, Intel Xeon 2 vCPUs). GPU ms per sum over
 * axis 0 in 32-row segments, both launches, 'chunks' → these (5 alternating rounds): 4096 × 4096
 * 7.1 → 6.1, 8192 × 4096 15.3 → 13.2, 2048 × 4096 3.6 → 3.0, 256 × 16384 1.9 → 1.7, 8192 × 2048
 * 7.1 → 6.3, 4096 × 2048 3.4 → 3.1, 2048 × 2048 1.9 → 1.8, 1024 × 4096 2.0 → 1.7, 512 × 8192 2.2 →
 * 1.8, 4096 × 1024 1.9 → 1.7. Columns past innerW are read clamped and not written. Params as
 * reduceStridedChunks: outer, len, innerW, seg, chunks, div; the partials [outer, chunks, inner] are
 * the same.
 */
export const reduceStridedLines = memoKernel(function reduceStridedLines(kind: ReduceKind, V: number): Kernel {
  const isMax = kind === 'max';
  const T = 'vec4<f32>';
  const comb = (a: string, v: string) => (isMax ? `max(${a}, ${v})` : `${a} + ${v}`);
  const cols = [...Array(V).keys()];
  return kernel(
    `reduce_${kind}_strided_lines_v${V}`,
    /* wgsl */ `
${stridedHead(T, isMax)}
  let blocks = (p.innerW + ${V - 1}u) / ${V}u;
  if (o >= p.outer * p.chunks * blocks) { return; }
  let ac = o / blocks;
  let cb = (o - ac * blocks) * ${V}u;
  let a = ac / p.chunks;
  let k0 = (ac - a * p.chunks) * p.seg;
  let k1 = min(k0 + p.seg, p.len);
  let st = p.innerW;
  var idx = (a * p.len + k0) * st;
${cols.map((v) => `  let c${v} = min(cb + ${v}u, st - 1u);
  var a${v} = ${T}(${isMax ? 'bitcast<f32>(NEG_INF_BITS)' : '0.0'});${isMax ? `
  var bad${v} = vec4<bool>(false);` : ''}`).join('\n')}
  for (var k = k0; k < k1; k++) {
${cols.map((v) => `    let x${v} = x[idx + c${v}];${isMax ? ` bad${v} = bad${v} | nan4(x${v});` : ''}
    a${v} = ${comb(`a${v}`, `x${v}`)};`).join('\n')}
    idx += st;
  }
  let out = ac * st;
${cols
  .map(
    (v) => `  if (cb + ${v}u < st) {
    var r${v} = a${v};
    ${isMax ? `r${v} = select(r${v}, ${T}(bitcast<f32>(NAN_BITS)), bad${v});` : ''}
    ${kind === 'mean' ? `r${v} = r${v} / p.div;` : ''}
    y[out + cb + ${v}u] = r${v};
  }`,
  )
  .join('\n')}
}`,
    ['r', 'rw'],
  );
});
