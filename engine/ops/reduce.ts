// sum / mean / max over one axis (keepdims optional), and their backward rules.
import { record } from '../autograd.ts';
import { launch, grid1d } from '../runtime.ts';
import { assertDtype, assertLive, empty, numel, Tensor, view } from '../tensor.ts';
import { reduceRows, reduceStrided, ROW_WG, type ReduceKind } from '../../kernels/reduce/axis.ts';
import { RED_ROWS_WG, reduceRowsVec4 } from '../../kernels/reduce/rows-vec4.ts';
import { RED_STRIDED_WG, RED_WIDE_LANES, reduceStridedChunks, reduceStridedLines, reduceStridedWide } from '../../kernels/reduce/strided-chunks.ts';
import { gpuSync } from '../device.ts';
import { forcedKernelFamily, subgroupKernelSize, subgroupKernelsUsable } from '../kernel-family.ts';
import { fill } from '../create.ts';
import { binaryRaw, reshape } from './elementwise.ts';

export function normAxis(op: string, x: Tensor, axis: number): number {
  const r = x.rank;
  const a = axis < 0 ? axis + r : axis;
  if (!Number.isInteger(a) || a < 0 || a >= r) {
    throw new Error(`${op}: axis ${axis} out of range for shape [${x.shape.join(', ')}]`);
  }
  return a;
}

function reduceRaw(kind: ReduceKind, x: Tensor, axis: number): Tensor {
  const outer = numel(x.shape.slice(0, axis));
  const len = x.shape[axis]!;
  const inner = numel(x.shape.slice(axis + 1));
  const keptShape = x.shape.map((d, i) => (i === axis ? 1 : d));
  const out = empty(keptShape, 'f32', x.backend);
  if (out.size === 0) return out;
  if (x.backend === 'cpu') {
    const X = x.cpu as Float64Array;
    const Y = out.cpu as Float64Array;
    for (let a = 0; a < outer; a++)
      for (let c = 0; c < inner; c++) {
        let acc = kind === 'max' ? -Infinity : 0;
        for (let k = 0; k < len; k++) {
          const v = X[(a * len + k) * inner + c]!;
          acc = kind === 'max' ? Math.max(acc, v) : acc + v;
        }
        Y[a * inner + c] = kind === 'mean' ? acc / len : acc;
      }
    return out;
  }
  if (len === 0) throw new Error(`${kind}: cannot reduce an empty axis of [${x.shape.join(', ')}]`);
  launchReduce(kind, x, out, outer, len, inner);
  return out;
}

/**
 * How a reduction over [outer, len, inner] runs (kernels/reduce/).
 *   rows (inner = 1): 'thread-vec4' (an invocation per row segment, vec4 loads), 'subgroup' (a
 *     subgroup per row segment, vec4 loads side by side, subgroupAdd/Max), both split into chunks and
 *     a second launch when the rows are few; 'workgroup' (a workgroup per row, a tree in workgroup
 *     memory), 'thread' (an invocation per row, scalar loads);
 *   columns (inner > 1): 'chunks' (an invocation per vec4 column and chunk of the axis, a second launch
 *     adding the chunks), 'chunks-wide' (the same with REDUCE_WIDE_V columns per invocation, a group
 *     of 8 lanes reading 8·V neighbouring columns of a row; the CPU rule for rows of 16 KiB from
 *     db35b4c until 32-row segments of 'chunks' beat it, columnChunkCount; forced only now),
 *     'chunks-lines' (REDUCE_LINES_V neighbouring vec4 columns per invocation, one row per step: the
 *     first launch of a large column sum on CPU adapters; scalar columns run 'chunks'), 'strided'
 *     (an invocation per output element, scalar loads).
 */
export type ReduceLayout = 'thread-vec4' | 'subgroup' | 'workgroup' | 'thread' | 'chunks' | 'chunks-wide' | 'chunks-lines' | 'strided';
/** Neighbouring vec4 columns per invocation of 'chunks-lines' (kernels/reduce/strided-chunks.ts reduceStridedLines). */
export const REDUCE_LINES_V = 8;
/** Columns per invocation of 'chunks-wide' (kernels/reduce/strided-chunks.ts reduceStridedWide). */
export const REDUCE_WIDE_V = 8;
/** Elements (outer·len·inner) from which CPU adapters sum columns in segments of REDUCE_COL_SEG rows. */
export const REDUCE_SHORT_SEG_MIN = 1 << 22;
/** Rows per chunk of a large column sum on CPU adapters. */
export const REDUCE_COL_SEG = 32;
const ROW_LAYOUTS: readonly ReduceLayout[] = ['thread-vec4', 'subgroup', 'workgroup', 'thread'];

/** Rows at least this long get vec4 loads on CPU adapters (shorter: the scalar invocation per row). */
export const REDUCE_VEC4_MIN_LEN = 8;

let forced: { layout: ReduceLayout; chunks: number | null } | null = null;
/**
 * Forces a layout for every GPU reduction of its kind (a row layout for inner = 1, a column layout
 * for inner > 1; the other kind keeps its rule), and optionally the chunk count of 'thread-vec4',
 * 'subgroup' and 'chunks' (tests reach the two-launch path on small inputs). null restores the fixed rule.
 */
export function setReduceLayout(layout: ReduceLayout | null, chunks: number | null = null): void {
  if (layout === 'subgroup' && !subgroupKernelsUsable(RED_ROWS_WG)) throw new Error(`setReduceLayout: the adapter has no fixed subgroup size dividing ${RED_ROWS_WG}`);
  forced = layout === null ? null : { layout, chunks };
}

/**
 * Lanes a launch should keep busy before its axis is split into chunks: 64 workgroups of 64 keep
 * lavapipe's threads (one workgroup each at a time) evenly busy; a hardware GPU needs thousands of
 * resident workgroups. A chunk is never shorter than MIN_SEG floats (rows) or MIN_SEG_COLS rows
 * (columns), so the second launch stays small.
 */
function splitLanes(): number {
  return gpuSync().info.isSoftware ? 4096 : 65536;
}
const MIN_SEG = 4096;
const MIN_SEG_COLS = 64;

/** Chunks of the axis: enough to reach `target` units of work from `units` unsplit ones, each ≥ minSeg long. */
export function reduceChunks(units: number, len: number, target: number, minSeg: number): number {
  if (units >= target) return 1;
  return Math.max(1, Math.min(Math.ceil(target / units), Math.floor(len / minSeg)));
}

/**
 * The layout the fixed rule picks for rows of `len` (inner = 1) or columns (inner > 1), or the forced one.
 * Columns: 'chunks' (vec4 or scalar columns side by side), split into columnChunkCount chunks; on
 * CPU adapters from REDUCE_SHORT_SEG_MIN elements with vec4 columns, 'chunks-lines' for the segments'
 * launch (GPU ms per sum over axis 0 in REDUCE_COL_SEG-row segments, 'chunks' → 'chunks-lines', in
 * reduceStridedLines's comment).
 * Rows on CPU adapters (lavapipe): 'thread-vec4' from 8 floats. Measured on this machine (2 cores,
 * GPU ms of 4M floats): 4096 × 1024 thread-vec4 1.8, subgroup 2.0 (the subgroup combine costs ≈ 90 ns
 * per row: 1M rows of 4 take 96 ms), workgroup tree 10; rows of 64 and 256: thread-vec4 2.6, the
 * scalar thread 4.4–6.6, subgroup 4.8–7.5; rows of 4: thread 10.4, thread-vec4 12.6.
 * Elsewhere the workgroup and thread kernels stay until measured, unless CSRM_KERNELS=subgroup (or
 * setKernelFamily) asks for the subgroup family: a subgroup per row is the layout that coalesces there.
 */
export function reduceLayoutFor(len: number, inner: number, outer = 1): ReduceLayout {
  const rows = inner === 1;
  if (forced && ROW_LAYOUTS.includes(forced.layout) === rows) return forced.layout;
  if (!rows) return gpuSync().info.isSoftware && inner % 4 === 0 && outer * len * inner >= REDUCE_SHORT_SEG_MIN ? 'chunks-lines' : 'chunks';
  if (forcedKernelFamily() === 'subgroup' && subgroupKernelSize(RED_ROWS_WG) !== null) return 'subgroup';
  if (gpuSync().info.isSoftware) return len >= REDUCE_VEC4_MIN_LEN ? 'thread-vec4' : 'thread';
  return len >= 2 * ROW_WG ? 'workgroup' : 'thread';
}

/**
 * Chunks of a column reduction over [outer, len, inner] whose unsplit launch has outer·perChunk
 * invocations. Hardware GPUs (and small inputs): enough chunks to keep the adapter busy
 * (reduceChunks). CPU adapters from REDUCE_SHORT_SEG_MIN elements: segments of REDUCE_COL_SEG rows.
 * A lavapipe subgroup runs its whole loop before the next one starts, so a column walk visits one
 * row after another at the same offset, and the next subgroup reads the neighbouring bytes of the
 * same rows; with short segments those rows are few enough to stay streamed and cached (a cliff
 * between 40 and 48 rows at 16 KiB rows, near the 32 streams an L2 prefetcher tracks). Measured on
 * this machine (2026-12-05, Intel Xeon 2 vCPUs, GPU ms per sum over axis 0, both launches, median of
 * 5 alternating rounds, old rule → 32-row segments; 'chunks-wide' at 32 rows beside it): 4096 × 4096
 * 12.9 → 8.0 (8.5), 8192 × 4096 23.7 → 15.1 (16.5), 2048 × 4096 5.0 → 3.7 (4.0), 256 × 16384 2.7 →
 * 2.0, 8192 × 2048 10.8 → 6.5, 4096 × 2048 4.0 → 3.3, 8192 × 1024 4.7 → 3.4, 2048 × 2048 2.3 → 1.7,
 * 1024 × 4096 2.3 → 2.0, 512 × 8192 2.3 → 2.5, 4096 × 1024 1.6 → 1.8 (the last two within their
 * rounds' spread); below 4M elements the extra chunks cost more than they save (48 × 768 0.16 → 0.28,
 * 96 × 4096 0.34 → 0.44, 3000 × 512 0.72 → 0.82), so smaller sums keep the old rule and its bits.
 */
export function columnChunkCount(outer: number, len: number, inner: number, perChunk: number): number {
  if (gpuSync().info.isSoftware && outer * len * inner >= REDUCE_SHORT_SEG_MIN) return Math.ceil(len / REDUCE_COL_SEG);
  return reduceChunks(outer * perChunk, len, splitLanes(), MIN_SEG_COLS);
}

function launchReduce(kind: ReduceKind, x: Tensor, out: Tensor, outer: number, len: number, inner: number): void {
  const layout = reduceLayoutFor(len, inner, outer);
  const forcedChunks = forced && forced.layout === layout ? forced.chunks : null;
  const firstKind: ReduceKind = kind === 'mean' ? 'sum' : kind;
  if (layout === 'subgroup' || layout === 'thread-vec4') {
    const L = layout === 'subgroup' ? gpuSync().info.subgroupSize! : 1;
    const C = Math.min(len, forcedChunks ?? reduceChunks(outer * L, len, splitLanes(), MIN_SEG));
    const seg = C === 1 ? len : Math.ceil(len / C / 4) * 4; // whole vec4 per chunk where the row allows
    const chunks = Math.ceil(len / seg);
    const perWg = RED_ROWS_WG / L;
    if (chunks === 1) {
      launch(reduceRowsVec4(kind, L, 2, len % 4 === 0, false), [x, out], grid1d(Math.ceil(outer / perWg)), [outer, len, len, 1, { f: len }], kind);
      return;
    }
    const part = empty([outer * chunks], 'f32', x.backend);
    launch(reduceRowsVec4(firstKind, L, 2, len % 4 === 0, true), [x, part], grid1d(Math.ceil((outer * chunks) / perWg)), [outer * chunks, len, seg, chunks, { f: len }], kind);
    launch(reduceRowsVec4(kind, L, 2, chunks % 4 === 0, false), [part, out], grid1d(Math.ceil(outer / perWg)), [outer, chunks, chunks, 1, { f: len }], kind);
    part.dispose();
  } else if (layout === 'chunks' || layout === 'chunks-wide' || layout === 'chunks-lines') {
    const W = inner % 4 === 0 ? 4 : 1;
    const iw = inner / W;
    const wide = layout === 'chunks-wide';
    const lines = layout === 'chunks-lines' && W === 4;
    // invocations per (outer, chunk): one per column, RED_WIDE_LANES per block of RED_WIDE_LANES·V
    // columns, or one per REDUCE_LINES_V columns
    const perChunk = wide ? Math.ceil(iw / (RED_WIDE_LANES * REDUCE_WIDE_V)) * RED_WIDE_LANES : lines ? Math.ceil(iw / REDUCE_LINES_V) : iw;
    const k = (kd: ReduceKind) => (wide ? reduceStridedWide(kd, W, REDUCE_WIDE_V) : lines ? reduceStridedLines(kd, REDUCE_LINES_V) : reduceStridedChunks(kd, W, 2));
    // with as many chunks, the two kernels give the same bits (the same order per column)
    const C = Math.min(len, forcedChunks ?? columnChunkCount(outer, len, inner, perChunk));
    const seg = Math.ceil(len / C);
    const chunks = Math.ceil(len / seg);
    const grid = (n: number) => grid1d(Math.ceil(n / RED_STRIDED_WG));
    if (chunks === 1) {
      launch(k(kind), [x, out], grid(outer * perChunk), [outer, len, iw, len, 1, { f: len }], kind);
      return;
    }
    const part = empty([outer * chunks * inner], 'f32', x.backend);
    launch(k(firstKind), [x, part], grid(outer * chunks * perChunk), [outer, len, iw, seg, chunks, { f: len }], kind);
    // 'chunks-lines' adds its partials as 'chunks' does: a few rows, one vec4 column per lane
    if (lines) launch(reduceStridedChunks(kind, W, 2), [part, out], grid(outer * iw), [outer, chunks, iw, chunks, 1, { f: len }], kind);
    else launch(k(kind), [part, out], grid(outer * perChunk), [outer, chunks, iw, chunks, 1, { f: len }], kind);
    part.dispose();
  } else if (layout === 'workgroup') {
    launch(reduceRows(kind), [x, out], grid1d(outer), [outer, len], kind);
  } else {
    launch(reduceStrided(kind), [x, out], grid1d(Math.ceil((outer * inner) / 256)), [outer, len, inner], kind);
  }
}

/** g (reduced shape, keepdims) broadcast back to `shape`, times `scale`. */
function expand(g: Tensor, shape: readonly number[], scale = 1): Tensor {
  const s = fill([], scale, g.backend);
  const y = binaryRaw('mul', g, s, 0, [...shape]);
  s.dispose();
  return y;
}

function reduceOp(kind: ReduceKind, x: Tensor, axis: number, keepdims: boolean): Tensor {
  assertLive(kind, x);
  assertDtype(kind, x, 'f32');
  const a = normAxis(kind, x, axis);
  const kept = reduceRaw(kind, x, a);
  const outShape = keepdims ? kept.shape : x.shape.filter((_, i) => i !== a);
  let y = kept;
  if (!keepdims) {
    y = view(kept, outShape);
    kept.dispose();
  }
  return record(y, kind, [x], (g) => {
    const gk = keepdims ? g : reshape(g, kept.shape);
    let gx: Tensor;
    if (kind === 'sum') gx = expand(gk, x.shape);
    else if (kind === 'mean') gx = expand(gk, x.shape, 1 / x.shape[a]!);
    else {
      // d max / dx = 1 where x equals the max (every tie receives the gradient)
      const m = keepdims ? y : reshape(y, kept.shape);
      const mask = binaryRaw('eq', x, m, 0, [...x.shape]);
      gx = binaryRaw('mul', mask, gk, 0, [...x.shape]);
      mask.dispose();
      if (m !== y) m.dispose();
    }
    if (gk !== g) gk.dispose();
    return [gx];
  });
}

export const sum = (x: Tensor, axis: number, keepdims = false) => reduceOp('sum', x, axis, keepdims);
export const mean = (x: Tensor, axis: number, keepdims = false) => reduceOp('mean', x, axis, keepdims);
export const max = (x: Tensor, axis: number, keepdims = false) => reduceOp('max', x, axis, keepdims);

function reduceAll(kind: 'sum' | 'mean', x: Tensor): Tensor {
  assertLive(kind, x);
  assertDtype(kind, x, 'f32');
  const flat = view(x, [x.size]);
  const r = reduceRaw(kind, flat, 0);
  flat.dispose();
  const y = view(r, []);
  r.dispose();
  return record(y, `${kind}All`, [x], (g) => [expand(g, x.shape, kind === 'mean' ? 1 / x.size : 1)]);
}

/** Sum of all elements as a tensor of shape []. */
export const sumAll = (x: Tensor) => reduceAll('sum', x);
/** Mean of all elements as a tensor of shape []. */
export const meanAll = (x: Tensor) => reduceAll('mean', x);
