// Embedding lookup and its adjoint, over a table [V, D] and n ids.
//  gather:  y[j, :] = table[clamp(ids[j], 0, V − 1), :]
//  scatter: dT[v, :] = Σ_{j : clamp(ids[j]) = v} g[j, :]     (the gather's backward)
// Ids live on the GPU, so they cannot be validated on the host: an out-of-range id is clamped in the
// kernel (never an out-of-bounds read) and its gradient goes to the clamped row, matching the forward.
// The scatter uses no atomics: one invocation owns a (vocab row, chunk of up to 32 columns or vec4
// columns) and loops over all ids once in order, so sums are deterministic. Cost O(V · n) compares
// (times D/128 chunks for wide rows) plus O(n · D) adds. Where the ids are also host data, the host
// sorts them (scatterIndex in engine/ops/gather.ts) and scatterCsrKernel sums in O(V·D + n·D).
import { kernel, type Kernel, memoKernel } from '../kernel.ts';

export const GATHER_WG = 256;
export const SCATTER_WG = 64;
/** Columns (vec4 columns when D % 4 = 0) one scatter invocation owns. */
export const SCATTER_CHUNK = 32;

/** One invocation per output element (vec4 of columns when D % 4 = 0). */
export const gatherKernel = memoKernel(function gatherKernel(vec4: boolean): Kernel {
  const T = vec4 ? 'vec4<f32>' : 'f32';
  return kernel(
    `gather_rows${vec4 ? '_vec4' : ''}`,
    /* wgsl */ `
struct P { n: u32, cols: u32, V: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> table: array<${T}>;
@group(0) @binding(2) var<storage, read> ids: array<i32>;
@group(0) @binding(3) var<storage, read_write> y: array<${T}>;
@compute @workgroup_size(${GATHER_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * ${GATHER_WG}u;
  if (i >= p.n * p.cols) { return; }
  let j = i / p.cols;
  let d = i % p.cols;
  let row = u32(clamp(ids[j], 0, i32(p.V) - 1));
  y[i] = table[row * p.cols + d];
}`,
    ['r', 'r', 'rw'],
  );
});

/**
 * One invocation per (vocab row, chunk of up to SCATTER_CHUNK columns); p.cols counts vec4 chunks
 * when vec4 is set. The invocation zeroes its slice of dT, then walks the ids once and adds the
 * matching gradient rows in id order: V·n compares plus n·D adds in all, deterministic, no atomics.
 */
export const scatterKernel = memoKernel(function scatterKernel(vec4: boolean): Kernel {
  const T = vec4 ? 'vec4<f32>' : 'f32';
  return kernel(
    `gather_rows_backward${vec4 ? '_vec4' : ''}`,
    /* wgsl */ `
struct P { n: u32, cols: u32, V: u32, chunk: u32, nChunks: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> g: array<${T}>;
@group(0) @binding(2) var<storage, read> ids: array<i32>;
@group(0) @binding(3) var<storage, read_write> dt: array<${T}>;
@compute @workgroup_size(${SCATTER_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * ${SCATTER_WG}u;
  if (i >= p.V * p.nChunks) { return; }
  let v = i / p.nChunks;
  let c0 = (i % p.nChunks) * p.chunk;
  let c1 = min(p.cols, c0 + p.chunk);
  let row = v * p.cols;
  for (var d = c0; d < c1; d++) { dt[row + d] = ${T}(0.0); }
  let last = i32(p.V) - 1;
  for (var j = 0u; j < p.n; j++) {
    if (u32(clamp(ids[j], 0, last)) == v) {
      let src = j * p.cols;
      for (var d = c0; d < c1; d++) { dt[row + d] += g[src + d]; }
    }
  }
}`,
    ['r', 'r', 'rw'],
  );
});

/** The subgroup scatters' bindings (g, ids, dT of element type T) and entry point, up to the first
 * invocation index i0 (shared by scatterKernelSubgroup and scatterKernelSubgroupAcc). */
const subgroupScatterHead = (T: string) => `enable subgroups;
diagnostic(off, subgroup_uniformity);
struct P { n: u32, cols: u32, V: u32, chunk: u32, nChunks: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> g: array<${T}>;
@group(0) @binding(2) var<storage, read> ids: array<i32>;
@group(0) @binding(3) var<storage, read_write> dt: array<${T}>;
@compute @workgroup_size(${SCATTER_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
  let i0 = gid.x + gid.y * nw.x * ${SCATTER_WG}u;`;

/**
 * The same scatter for adapters whose subgroups are SIMD lanes of a CPU (lavapipe): there every lane
 * of a subgroup read each id with its own per-lane load (≈ 9 instructions per lane on lavapipe); here
 * the lanes load SG consecutive ids at once and hand them out with subgroupBroadcast, so an id costs
 * one broadcast and a compare. Same order of additions per output element (ids in order), so the
 * result is bit-identical to scatterKernel's. Lanes past the last (vocab row, chunk) compute a
 * clamped one and do not write. Needs the adapter's fixed subgroup size SG dividing SCATTER_WG.
 */
export const scatterKernelSubgroup = memoKernel(function scatterKernelSubgroup(vec4: boolean, SG: number): Kernel {
  const T = vec4 ? 'vec4<f32>' : 'f32';
  const step = (t: number) => `
    if (valid && j0 + ${t}u < p.n && subgroupBroadcast(id, ${t}u) == v) {
      let src = (j0 + ${t}u) * p.cols;
      for (var d = c0; d < c1; d++) { dt[row + d] += g[src + d]; }
    }`;
  return kernel(
    `gather_rows_backward_subgroup${vec4 ? '_vec4' : ''}_sg${SG}`,
    /* wgsl */ `${subgroupScatterHead(T)}
  let valid = i0 < p.V * p.nChunks;
  let i = min(i0, p.V * p.nChunks - 1u);
  let v = i / p.nChunks;
  let c0 = (i % p.nChunks) * p.chunk;
  let c1 = min(p.cols, c0 + p.chunk);
  let row = v * p.cols;
  if (valid) {
    for (var d = c0; d < c1; d++) { dt[row + d] = ${T}(0.0); }
  }
  let last = i32(p.V) - 1;
  for (var j0 = 0u; j0 < p.n; j0 += ${SG}u) {
    let id = u32(clamp(ids[min(j0 + lane, p.n - 1u)], 0, last));${Array.from({ length: SG }, (_, t) => step(t)).join('')}
  }
}`,
    ['r', 'r', 'rw'],
  );
});

/**
 * scatterKernelSubgroup's sum added into dT (autograd's sum of a second gradient into the first): one
 * invocation per vocab row of `cols` (≤ SCATTER_CHUNK) columns, the row's sums in registers from 0 in
 * id order — the additions of scatterKernelSubgroup — then dT + sum, as the add kernel forms it, so the
 * bits are those of the scatter followed by add(). Bindings g, ids, dt; params as scatterKernel's.
 */
export const scatterKernelSubgroupAcc = memoKernel(function scatterKernelSubgroupAcc(vec4: boolean, SG: number, cols: number): Kernel {
  if (cols > SCATTER_CHUNK) throw new Error(`scatterKernelSubgroupAcc: ${cols} columns > ${SCATTER_CHUNK}`);
  const T = vec4 ? 'vec4<f32>' : 'f32';
  const cs = [...Array(cols).keys()];
  const step = (t: number) => `
    if (valid && j0 + ${t}u < p.n && subgroupBroadcast(id, ${t}u) == v) {
      let src = (j0 + ${t}u) * ${cols}u;
${cs.map((c) => `      a${c} += g[src + ${c}u];`).join('\n')}
    }`;
  return kernel(
    `gather_rows_backward_subgroup${vec4 ? '_vec4' : ''}_acc_c${cols}_sg${SG}`,
    /* wgsl */ `${subgroupScatterHead(T)}
  let valid = i0 < p.V;
  let v = min(i0, p.V - 1u);
  let row = v * ${cols}u;
${cs.map((c) => `  var a${c} = ${T}(0.0);`).join('\n')}
  let last = i32(p.V) - 1;
  for (var j0 = 0u; j0 < p.n; j0 += ${SG}u) {
    let id = u32(clamp(ids[min(j0 + lane, p.n - 1u)], 0, last));${Array.from({ length: SG }, (_, t) => step(t)).join('')}
  }
  if (valid) {
${cs.map((c) => `    dt[row + ${c}u] = dt[row + ${c}u] + a${c};`).join('\n')}
  }
}`,
    ['r', 'r', 'rw'],
  );
});

/**
 * The scatter from a compressed index built on the host where the ids are host data (a training
 * batch's tokens): csr = [offsets (V + 1), positions (n)], the positions of each vocab row's ids in
 * ascending order (a stable counting sort of the clamped ids). One invocation per (vocab row, column
 * or vec4 column) sums its row's gradient rows in id order — the order of scatterKernel, so the result
 * is bit-identical — in O(V·D + n·D) instead of O(V·n) compares. Consecutive lanes share a vocab row:
 * the same trip count and contiguous loads across a subgroup. accumulate: dT += the sum instead of
 * dT = (autograd's sum of a second gradient into the first: dT + the row's sum, as the add kernel forms it).
 */
export const scatterCsrKernel = memoKernel(function scatterCsrKernel(vec4: boolean, accumulate: boolean): Kernel {
  const T = vec4 ? 'vec4<f32>' : 'f32';
  return kernel(
    `gather_rows_backward_csr${vec4 ? '_vec4' : ''}${accumulate ? '_acc' : ''}`,
    /* wgsl */ `
struct P { V: u32, cols: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> g: array<${T}>;
@group(0) @binding(2) var<storage, read> csr: array<i32>;
@group(0) @binding(3) var<storage, read_write> dt: array<${T}>;
@compute @workgroup_size(${SCATTER_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * ${SCATTER_WG}u;
  if (i >= p.V * p.cols) { return; }
  let v = i / p.cols;
  let c = i % p.cols;
  var acc = ${T}(0.0);
  // bounded by the buffer even where csr is not an index (bench/profile-step.ts replays a step's
  // dispatches after its buffers went back to the pool): a loop over a stale word never runs for hours
  let e = min(u32(csr[v + 1u]), arrayLength(&csr) - p.V - 1u);
  for (var k = u32(csr[v]); k < e; k++) { acc += g[u32(csr[p.V + 1u + k]) * p.cols + c]; }
  dt[i] = ${accumulate ? 'dt[i] + ' : ''}acc;
}`,
    ['r', 'r', 'rw'],
  );
});
