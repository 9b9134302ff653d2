// sum / mean / max over one axis (keepdims optional), and their backward rules.
import { record } from '../autograd.ts';
import { launch, grid1d } from '../runtime.ts';
import { assertDtype, assertLive, empty, numel, Tensor, view } from '../tensor.ts';
import { reduceRows, reduceStrided, ROW_WG, type ReduceKind } from '../../kernels/reduce/axis.ts';
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
  if (inner === 1 && len >= 2 * ROW_WG) {
    launch(reduceRows(kind), [x, out], grid1d(outer), [outer, len], kind);
  } else {
    launch(reduceStrided(kind), [x, out], grid1d(Math.ceil((outer * inner) / 256)), [outer, len, inner], kind);
  }
  return out;
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
