// Shape ops that move data: permute/transpose (materialising copy), slice along an axis, concat.
//   permute:  y = x with axes reordered;       dx = permute(g, inverse(dims))
//   slice:    y = x[..., start:end, ...];       dx = g zero-padded back into x's shape
//   concat:   y = [x₀ | x₁ | …] along an axis;  dxᵢ = slice(g, axis, offᵢ, offᵢ + lenᵢ)
// Kernels copy 32-bit words, so all three also serve i32/u32 tensors (ids); only f32 gets gradients.
import { record } from '../autograd.ts';
import { launch, grid1d, type Param } from '../runtime.ts';
import { assertLive, assertSameBackend, empty, numel, Tensor } from '../tensor.ts';
import { permuteKernel, permuteTileGrid, permuteTileKernel, permuteTileLx, PERMUTE_MAX_RANK, PERMUTE_WG, type PermuteTileMode } from '../../kernels/shape/permute.ts';
import { padKernel, placeKernel, sliceKernel, WINDOW_WG } from '../../kernels/shape/window.ts';
import { rowsCopyKernel, rowsGrid, rowsPadKernel } from '../../kernels/shape/rows.ts';
import { coalesceAxes, ROWS_MIN_W } from './coalesce.ts';
import { padRef, permuteRef, placeRef, sliceRef } from '../reference/shape.ts';
import { normAxis } from './reduce.ts';

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/** [outer, len, inner] of `shape` around `axis`. */
function around(shape: readonly number[], axis: number): [number, number, number] {
  return [numel(shape.slice(0, axis)), shape[axis]!, numel(shape.slice(axis + 1))];
}

/** Which permute kernel runs: the tile kernel where the axes coalesce into ≤ 4 ('auto'), or always the rank walk (a bench baseline). */
export type PermutePath = 'auto' | 'walk';

function permuteRaw(x: Tensor, dims: readonly number[], path: PermutePath = 'auto'): Tensor {
  const outShape = dims.map((d) => x.shape[d]!);
  const out = empty(outShape, x.dtype, x.backend);
  if (out.size === 0) return out;
  if (x.backend === 'cpu') {
    permuteRef(x.cpu!, x.shape, dims, out.cpu!);
    return out;
  }
  const r = x.rank;
  const inStride = new Array<number>(r);
  let acc = 1;
  for (let d = r - 1; d >= 0; d--) {
    inStride[d] = acc;
    acc *= x.shape[d]!;
  }
  const xs = dims.map((d) => inStride[d]!);
  if (path === 'auto' && permuteTile(x, out, outShape, xs)) return out;
  const pad = (a: number[], v: number) => [...a, ...Array(PERMUTE_MAX_RANK - a.length).fill(v)];
  const params: Param[] = [out.size, r, 0, 0, ...pad(outShape, 1), ...pad(xs, 0)];
  launch(permuteKernel, [x, out], grid1d(Math.ceil(out.size / PERMUTE_WG)), params, 'permute');
  return out;
}

/**
 * The tile kernel when the output's axes, with x's strides taken in output order, coalesce into
 * A0 × A1 × R × W (no per-element division); false when they do not (rank > 4, or a grid axis past 65,535).
 */
function permuteTile(x: Tensor, out: Tensor, outShape: readonly number[], xs: readonly number[]): boolean {
  const ys = new Array<number>(outShape.length);
  let acc = 1;
  for (let d = outShape.length - 1; d >= 0; d--) {
    ys[d] = acc;
    acc *= outShape[d]!;
  }
  const c = coalesceAxes(outShape, [ys, xs]);
  if (c.shape.length > 4) return false;
  const lead = 4 - c.shape.length;
  const [A0, A1, R, W] = [...Array(lead).fill(1), ...c.shape] as [number, number, number, number];
  const [sA0, sA1, sR, sC] = [...Array(lead).fill(0), ...c.strides[1]!] as [number, number, number, number];
  const by4 = (...v: number[]) => v.every((n) => n % 4 === 0);
  const mode: PermuteTileMode = sC === 1 && by4(W, sR, sA1, sA0) ? 'vec4' : sR === 1 && by4(R, W, sC, sA1, sA0) ? 'quad' : 'word';
  // R and W in the kernel's units: vec4 words along a row, 4 × 4 quads, or words
  const [Rk, Wk] = mode === 'vec4' ? [R, W / 4] : mode === 'quad' ? [R / 4, W / 4] : [R, W];
  const lx = permuteTileLx(Wk);
  const grid = permuteTileGrid(A0 * A1, Rk, Wk, lx);
  if (!grid) return false;
  const params = mode === 'word' ? [A1, R, W, sA0, sA1, sR, sC] : mode === 'vec4' ? [A1, R, W / 4, sA0 / 4, sA1 / 4, sR / 4, 1] : [A1, R / 4, W / 4, sA0 / 4, sA1 / 4, 1, sC / 4];
  launch(permuteTileKernel(lx, mode), [x, out], grid, params, 'permute');
  return true;
}

/** permute() through a chosen kernel path, without autograd (bench/shape.ts times the paths side by side). */
export function permuteVia(x: Tensor, dims: readonly number[], path: PermutePath): Tensor {
  assertLive('permute', x);
  return permuteRaw(x, dims, path);
}

/** y's axis d is x's axis dims[d] (a copy, not a view). */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  assertLive('permute', x);
  const r = x.rank;
  const nd = dims.map((d) => (d < 0 ? d + r : d));
  const isPerm = nd.length === r && nd.every((d) => Number.isInteger(d) && d >= 0 && d < r) && new Set(nd).size === r;
  if (!isPerm) throw new Error(`permute: dims ${fmt(dims)} are not a permutation of the axes of ${fmt(x.shape)}`);
  if (r > PERMUTE_MAX_RANK) throw new Error(`permute: rank ${r} of ${fmt(x.shape)} exceeds ${PERMUTE_MAX_RANK}`);
  const y = permuteRaw(x, nd);
  const inv = new Array<number>(r);
  nd.forEach((d, i) => (inv[d] = i));
  return record(y, 'permute', [x], (g) => [permuteRaw(g, inv)]);
}

/** Swaps two axes (a materialising copy). */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  assertLive('transpose', x);
  const a = normAxis('transpose', x, dim0);
  const b = normAxis('transpose', x, dim1);
  const dims = x.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return permute(x, dims);
}

/** y[B + r·T + c] = x[A + r·S + c] for r < R, c < W: in vec4 words where every figure allows. */
function rowsCopy(x: Tensor, y: Tensor, R: number, W: number, S: number, A: number, T: number, B: number, op: string): void {
  const q = [W, S, A, T, B].every((v) => v % 4 === 0) ? 4 : 1;
  launch(rowsCopyKernel(q === 4), [x, y], rowsGrid(R, W / q), [R, W / q, S / q, A / q, T / q, B / q], op);
}

function sliceRaw(x: Tensor, axis: number, start: number, end: number): Tensor {
  const [outer, len, inner] = around(x.shape, axis);
  const olen = end - start;
  const out = empty(x.shape.map((d, i) => (i === axis ? olen : d)), x.dtype, x.backend);
  if (out.size === 0) return out;
  if (x.backend === 'cpu') {
    sliceRef(x.cpu!, outer, len, inner, start, olen, out.cpu!);
    return out;
  }
  // `outer` runs of olen·inner words: the row kernel where a run fills its workgroup
  if (olen * inner >= ROWS_MIN_W) rowsCopy(x, out, outer, olen * inner, len * inner, start * inner, olen * inner, 0, 'slice');
  else launch(sliceKernel, [x, out], grid1d(Math.ceil(out.size / WINDOW_WG)), [out.size, inner, len, olen, start], 'slice');
  return out;
}

/** g (the slice's gradient) zero-padded into `shape` at [start, start + g.shape[axis]) of `axis`. */
function padRaw(g: Tensor, shape: readonly number[], axis: number, start: number): Tensor {
  const [outer, len, inner] = around(shape, axis);
  const glen = g.shape[axis]!;
  const out = empty(shape, g.dtype, g.backend);
  if (out.size === 0) return out;
  if (g.backend === 'cpu') {
    padRef(g.cpu!, outer, len, inner, start, glen, out.cpu!);
    return out;
  }
  if (len * inner >= ROWS_MIN_W) {
    const [W, S, lo, hi] = [len * inner, glen * inner, start * inner, (start + glen) * inner];
    const q = [W, S, lo, hi].every((v) => v % 4 === 0) ? 4 : 1;
    launch(rowsPadKernel(q === 4), [g, out], rowsGrid(outer, W / q), [outer, W / q, S / q, lo / q, hi / q], 'slice_backward');
  }
  else launch(padKernel, [g, out], grid1d(Math.ceil(out.size / WINDOW_WG)), [out.size, inner, len, glen, start], 'slice_backward');
  return out;
}

/** x[..., start:end, ...] along `axis` (0 ≤ start ≤ end ≤ shape[axis]); a copy. */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  assertLive('slice', x);
  const a = normAxis('slice', x, axis);
  const len = x.shape[a]!;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > len) {
    throw new Error(`slice: range [${start}, ${end}) is invalid for axis ${axis} of ${fmt(x.shape)}`);
  }
  const y = sliceRaw(x, a, start, end);
  return record(y, 'slice', [x], (g) => [padRaw(g, x.shape, a, start)]);
}

/** Joins tensors along `axis`; all other dimensions, the dtype and the backend must agree. */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new Error('concat: needs at least one tensor');
  assertLive('concat', ...xs);
  const first = xs[0]!;
  const backend = assertSameBackend('concat', ...xs);
  const a = normAxis('concat', first, axis);
  const shapes = xs.map((t) => fmt(t.shape)).join(', ');
  for (const t of xs) {
    const same = t.rank === first.rank && t.shape.every((d, i) => i === a || d === first.shape[i]);
    if (!same) throw new Error(`concat: shapes ${shapes} differ outside axis ${axis}`);
    if (t.dtype !== first.dtype) throw new Error(`concat: dtypes differ (${xs.map((u) => u.dtype).join(', ')}) for shapes ${shapes}`);
  }
  const tlen = xs.reduce((s, t) => s + t.shape[a]!, 0);
  const outShape = first.shape.map((d, i) => (i === a ? tlen : d));
  const out = empty(outShape, first.dtype, backend);
  const offs: number[] = [];
  let off = 0;
  for (const t of xs) {
    offs.push(off);
    const [outer, len, inner] = around(t.shape, a);
    if (t.size > 0) {
      if (backend === 'cpu') placeRef(t.cpu!, outer, len, inner, tlen, off, out.cpu!);
      else if (len * inner >= ROWS_MIN_W) rowsCopy(t, out, outer, len * inner, len * inner, 0, tlen * inner, off * inner, 'concat');
      else launch(placeKernel, [t, out], grid1d(Math.ceil(t.size / WINDOW_WG)), [t.size, inner, len, tlen, off], 'concat');
    }
    off += len;
  }
  return record(out, 'concat', [...xs], (g) =>
    xs.map((t, i) => (t.requiresGrad ? sliceRaw(g, a, offs[i]!, offs[i]! + t.shape[a]!) : null)),
  );
}
