// where(cond, a, b) = cond ? a : b with broadcasting, and maskedFill(x, mask, v) = mask ? v : x.
//   d/da = g where cond (summed over a's broadcast axes), d/db = g elsewhere; cond gets no gradient.
import { record } from '../autograd.ts';
import { fill } from '../create.ts';
import { launch, grid1d, type Param } from '../runtime.ts';
import { assertDtype, assertLive, assertSameBackend, empty, Tensor } from '../tensor.ts';
import { fillRowsKernel, whereKernel, whereRowsKernel, WHERE_MAX_RANK, WHERE_WG } from '../../kernels/where/select.ts';
import { rowsGrid } from '../../kernels/shape/rows.ts';
import { asRows, ROWS_MIN_W } from './coalesce.ts';
import { whereRef } from '../reference/where.ts';
import { broadcastShape, sumTo } from './elementwise.ts';

/** Strides of `shape` inside the broadcast output `out` (0 on broadcast axes). */
function bstrides(shape: readonly number[], out: readonly number[]): number[] {
  const r = out.length;
  const padded = [...Array(r - shape.length).fill(1), ...shape];
  const st = new Array<number>(r).fill(0);
  let acc = 1;
  for (let d = r - 1; d >= 0; d--) {
    st[d] = padded[d] === 1 && out[d] !== 1 ? 0 : acc;
    acc *= padded[d]!;
  }
  return st;
}

/**
 * The row kernels' view of a broadcast whose operands coalesce into R rows of W elements (W ≥
 * ROWS_MIN_W), or null: with `vec` (every operand along the row from a vec4 start, or one value per
 * row) W and the row strides of along-the-row operands count vec4s; st[k] = [row stride, column stride].
 */
function rowOperands(shape: readonly number[], strides: number[][]): { vec: boolean; R: number; W: number; st: [number, number][] } | null {
  const rows = asRows(shape, strides);
  if (!rows || rows.W < ROWS_MIN_W) return null;
  const vec = rows.W % 4 === 0 && rows.st.every(([rs, cs]) => cs === 0 || (cs === 1 && rs % 4 === 0));
  const q = vec ? 4 : 1;
  return { vec, R: rows.R, W: rows.W / q, st: rows.st.map(([r0, c0]) => [c0 === 1 ? r0 / q : r0, c0] as [number, number]) };
}

function whereRaw(cond: Tensor, a: Tensor, b: Tensor, op: string): Tensor {
  const shape = broadcastShape(op, broadcastShape(op, cond.shape, a.shape), b.shape);
  const backend = assertSameBackend(op, cond, a, b);
  const out = empty(shape, 'f32', backend);
  if (out.size === 0) return out;
  const sc = bstrides(cond.shape, shape);
  const sa = bstrides(a.shape, shape);
  const sb = bstrides(b.shape, shape);
  if (backend === 'cpu') {
    whereRef(cond.cpu!, a.cpu!, b.cpu!, shape, sc, sa, sb, out.cpu!);
    return out;
  }
  const rows = rowOperands(shape, [sc, sa, sb]);
  if (rows) {
    const { vec, R, W, st } = rows;
    const [[cr, cc], [ar, ac], [br, bc]] = st;
    launch(whereRowsKernel(cond.dtype === 'f32', vec ? [cc === 1, ac === 1, bc === 1] : null), [cond, a, b, out], rowsGrid(R, W), [R, W, cr, cc, ar, ac, br, bc], op);
    return out;
  }
  const r = shape.length;
  if (r > WHERE_MAX_RANK) throw new Error(`${op}: rank ${r} exceeds ${WHERE_MAX_RANK}`);
  const pad = (v: number[], f: number) => [...v, ...Array(WHERE_MAX_RANK - r).fill(f)];
  const params: Param[] = [out.size, r, 0, 0, ...pad(shape, 1), ...pad(sc, 0), ...pad(sa, 0), ...pad(sb, 0)];
  launch(whereKernel(cond.dtype === 'f32'), [cond, a, b, out], grid1d(Math.ceil(out.size / WHERE_WG)), params, op);
  return out;
}

/** g restricted to where `cond` is true (`onTrue`) or false, summed back to `shape`. */
function routeGrad(cond: Tensor, g: Tensor, onTrue: boolean, shape: readonly number[]): Tensor {
  const z = fill([], 0, g.backend);
  const m = onTrue ? whereRaw(cond, g, z, 'where_backward') : whereRaw(cond, z, g, 'where_backward');
  z.dispose();
  const r = sumTo(m, shape);
  if (r !== m) m.dispose();
  return r;
}

/** Elementwise cond ? a : b; cond is an f32, i32 or u32 mask (non-zero = true); all three broadcast. */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  assertLive('where', cond, a, b);
  assertDtype('where', cond, 'f32', 'i32', 'u32');
  assertDtype('where', a, 'f32');
  assertDtype('where', b, 'f32');
  const y = whereRaw(cond, a, b, 'where');
  return record(y, 'where', [cond, a, b], (g) => [
    null,
    a.requiresGrad ? routeGrad(cond, g, true, a.shape) : null,
    b.requiresGrad ? routeGrad(cond, g, false, b.shape) : null,
  ]);
}

function whereWithScalar(mask: Tensor, x: Tensor, value: number): Tensor {
  const v = fill([], value, x.backend);
  const y = whereRaw(mask, v, x, 'maskedFill');
  v.dispose();
  return y;
}

/** maskedFill's forward by the row kernel with the value as a uniform, where mask and x coalesce into rows; null otherwise. */
function fillRows(mask: Tensor, x: Tensor, value: number): Tensor | null {
  if (x.backend !== 'gpu' || x.size === 0) return null;
  const rows = rowOperands(x.shape, [bstrides(mask.shape, x.shape), bstrides(x.shape, x.shape)]);
  if (!rows) return null;
  const { vec, R, W, st } = rows;
  const [[cr, cc], [xr, xc]] = st;
  const out = empty(x.shape, 'f32', 'gpu');
  launch(fillRowsKernel(mask.dtype === 'f32', vec ? [cc === 1, xc === 1] : null), [mask, x, out], rowsGrid(R, W), [R, W, cr, cc, xr, xc, { f: value }], 'maskedFill');
  return out;
}

/** x with `value` where mask is true; mask broadcasts to x's shape (not the other way round). */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  assertLive('maskedFill', x, mask);
  assertDtype('maskedFill', x, 'f32');
  assertDtype('maskedFill', mask, 'f32', 'i32', 'u32');
  const shape = broadcastShape('maskedFill', mask.shape, x.shape);
  if (shape.join(',') !== x.shape.join(',')) {
    throw new Error(`maskedFill: mask [${mask.shape.join(', ')}] does not broadcast to x [${x.shape.join(', ')}]`);
  }
  assertSameBackend('maskedFill', x, mask);
  const y = fillRows(mask, x, value) ?? whereWithScalar(mask, x, value);
  return record(y, 'maskedFill', [x, mask], (g) => [routeGrad(mask, g, false, x.shape), null]);
}
