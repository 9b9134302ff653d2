// Elementwise ops with numpy broadcasting. Forward: kernels/elementwise/map.ts on the GPU or
// engine/reference/elementwise.ts in float64; backward rules are written in ops, so they run on
// either backend, and broadcasting is undone by summing the gradient back to the input's shape.
import { record } from '../autograd.ts';
import { launch, grid1d, type Param } from '../runtime.ts';
import { assertDtype, assertLive, assertSameBackend, empty, numel, Tensor, view } from '../tensor.ts';
import { binaryStrided, binaryVec4, MAX_RANK, unaryVec4, VPT, WG, type Mode } from '../../kernels/elementwise/map.ts';
import { BINARY_REF, UNARY_REF } from '../reference/elementwise.ts';
import { sum } from './reduce.ts';

export function broadcastShape(op: string, a: readonly number[], b: readonly number[]): number[] {
  const r = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${op}: shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast (axis ${i}: ${da} vs ${db})`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

function stridesFor(shape: readonly number[], out: readonly number[]): number[] {
  const r = out.length;
  const padded = [...Array(r - shape.length).fill(1), ...shape];
  const st = new Array(r).fill(0);
  let acc = 1;
  for (let d = r - 1; d >= 0; d--) {
    st[d] = padded[d] === 1 && out[d] !== 1 ? 0 : acc;
    acc *= padded[d]!;
  }
  return st;
}

function modeOf(shape: readonly number[], out: readonly number[]): Mode | 'strided' {
  const n = numel(shape);
  if (n === numel(out) && n > 0) return 'full';
  if (n === 1) return 'scalar';
  // suffix: shape (without leading 1s) equals the trailing dims of out
  let s = [...shape];
  while (s.length && s[0] === 1) s = s.slice(1);
  const tail = out.slice(out.length - s.length);
  if (s.length <= out.length && s.every((d, i) => d === tail[i])) return 'suffix';
  return 'strided';
}

/** Reduces a broadcast gradient back to `shape` (sum over the axes that were broadcast). */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.join(',') === shape.join(',')) return g;
  const r = g.shape.length;
  const padded = [...Array(r - shape.length).fill(1), ...shape];
  let cur = g;
  for (let d = 0; d < r; d++) {
    if (padded[d] === 1 && g.shape[d] !== 1) {
      const next = sum(cur, d, true);
      if (cur !== g) cur.dispose();
      cur = next;
    }
  }
  const out = reshape(cur, shape);
  if (cur !== g) cur.dispose();
  return out;
}

/** Same storage, new shape (no copy). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  assertLive('reshape', x);
  const s = [...shape];
  const neg = s.indexOf(-1);
  if (neg >= 0) s[neg] = x.size / numel(s.filter((_, i) => i !== neg));
  if (numel(s) !== x.size || s.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`reshape: cannot view [${x.shape.join(', ')}] (${x.size} elements) as [${shape.join(', ')}]`);
  }
  const out = view(x, s);
  return record(out, 'reshape', [x], (g) => [reshape(g, x.shape)]);
}

/** The raw binary kernel without autograd (backward rules use it). */
export function binaryRaw(op: string, a: Tensor, b: Tensor, s = 0, outShape?: number[]): Tensor {
  const shape = outShape ?? broadcastShape(op, a.shape, b.shape);
  const backend = assertSameBackend(op, a, b);
  const out = empty(shape, 'f32', backend);
  const n = out.size;
  if (n === 0) return out;
  if (backend === 'cpu') {
    const f = BINARY_REF[op]!;
    const sa = stridesFor(a.shape, shape);
    const sb = stridesFor(b.shape, shape);
    const A = a.cpu as Float64Array;
    const B = b.cpu as Float64Array;
    const Y = out.cpu as Float64Array;
    const r = shape.length;
    for (let i = 0; i < n; i++) {
      let rem = i;
      let ia = 0;
      let ib = 0;
      for (let d = r - 1; d >= 0; d--) {
        const c = rem % shape[d]!;
        rem = Math.floor(rem / shape[d]!);
        ia += c * sa[d]!;
        ib += c * sb[d]!;
      }
      Y[i] = f(A[ia]!, B[ib]!, s);
    }
    return out;
  }
  const ma = modeOf(a.shape, shape);
  const mb = modeOf(b.shape, shape);
  const vecOk = (m: Mode | 'strided', t: Tensor) => m === 'full' || m === 'scalar' || (m === 'suffix' && t.size % 4 === 0);
  if (ma !== 'strided' && mb !== 'strided' && vecOk(ma, a) && vecOk(mb, b)) {
    const n4 = Math.ceil(n / 4);
    launch(binaryVec4(op, ma, mb), [a, b, out], grid1d(Math.ceil(n4 / (WG * VPT))), [n4, Math.max(1, Math.ceil(a.size / 4)), Math.max(1, Math.ceil(b.size / 4)), { f: s }], op);
    return out;
  }
  if (shape.length > MAX_RANK) throw new Error(`${op}: rank ${shape.length} exceeds ${MAX_RANK}`);
  const r = shape.length;
  const shp = [...shape, ...Array(MAX_RANK - r).fill(1)];
  const sa = [...stridesFor(a.shape, shape), ...Array(MAX_RANK - r).fill(0)];
  const sb = [...stridesFor(b.shape, shape), ...Array(MAX_RANK - r).fill(0)];
  const params: Param[] = [n, r, { f: s }, 0, ...shp, ...sa, ...sb];
  launch(binaryStrided(op), [a, b, out], grid1d(Math.ceil(n / WG)), params, op);
  return out;
}

/** The raw unary kernel without autograd. */
export function unaryRaw(op: string, x: Tensor, s = 0): Tensor {
  const out = empty(x.shape, 'f32', x.backend);
  const n = out.size;
  if (n === 0) return out;
  if (x.backend === 'cpu') {
    const f = UNARY_REF[op]!;
    const X = x.cpu as Float64Array;
    const Y = out.cpu as Float64Array;
    for (let i = 0; i < n; i++) Y[i] = f(X[i]!, s);
    return out;
  }
  const n4 = Math.ceil(n / 4);
  launch(unaryVec4(op), [x, out], grid1d(Math.ceil(n4 / (WG * VPT))), [n4, { f: s }], op);
  return out;
}

function checkBinary(op: string, a: Tensor, b: Tensor): void {
  assertLive(op, a, b);
  assertDtype(op, a, 'f32');
  assertDtype(op, b, 'f32');
  assertSameBackend(op, a, b);
}

export function add(a: Tensor, b: Tensor): Tensor {
  checkBinary('add', a, b);
  const y = binaryRaw('add', a, b);
  return record(y, 'add', [a, b], (g) => [sumTo(g, a.shape), sumTo(g, b.shape)]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  checkBinary('sub', a, b);
  const y = binaryRaw('sub', a, b);
  return record(y, 'sub', [a, b], (g) => {
    const nb = neg(g);
    const gb = sumTo(nb, b.shape);
    if (gb !== nb) nb.dispose();
    return [sumTo(g, a.shape), gb];
  });
}

export function mul(a: Tensor, b: Tensor): Tensor {
  checkBinary('mul', a, b);
  const y = binaryRaw('mul', a, b);
  return record(y, 'mul', [a, b], (g) => [
    a.requiresGrad ? reduceTo(binaryRaw('mul', g, b, 0, [...y.shape]), a.shape) : null,
    b.requiresGrad ? reduceTo(binaryRaw('mul', g, a, 0, [...y.shape]), b.shape) : null,
  ]);
}

export function div(a: Tensor, b: Tensor): Tensor {
  checkBinary('div', a, b);
  const y = binaryRaw('div', a, b);
  return record(y, 'div', [a, b], (g) => {
    const ga = a.requiresGrad ? reduceTo(binaryRaw('div', g, b, 0, [...y.shape]), a.shape) : null;
    let gb: Tensor | null = null;
    if (b.requiresGrad) {
      // d(a/b)/db = -y/b
      const t = binaryRaw('mul', g, y, 0, [...y.shape]);
      const t2 = binaryRaw('div', t, b, 0, [...y.shape]);
      t.dispose();
      const t3 = unaryRaw('neg', t2);
      t2.dispose();
      gb = reduceTo(t3, b.shape);
    }
    return [ga, gb];
  });
}

/** sumTo that frees its input when it made a new tensor. */
function reduceTo(t: Tensor, shape: readonly number[]): Tensor {
  const r = sumTo(t, shape);
  if (r !== t) t.dispose();
  return r;
}

function unaryOp(op: string, x: Tensor, s: number, bwd: (g: Tensor, y: Tensor) => Tensor): Tensor {
  assertLive(op, x);
  assertDtype(op, x, 'f32');
  const y = unaryRaw(op, x, s);
  return record(y, op, [x], (g) => [bwd(g, y)]);
}

export const neg = (x: Tensor) => unaryOp('neg', x, 0, (g) => unaryRaw('neg', g));
export const copy = (x: Tensor) => unaryOp('copy', x, 0, (g) => unaryRaw('copy', g));
export const exp = (x: Tensor) => unaryOp('exp', x, 0, (g, y) => binaryRaw('mul', g, y));
export const log = (x: Tensor) => unaryOp('log', x, 0, (g) => binaryRaw('div', g, x));
export const sqrt = (x: Tensor) => unaryOp('sqrt', x, 0, (g, y) => binaryRaw('sqrt_bwd', g, y));
export const pow = (x: Tensor, e: number) => unaryOp('pow', x, e, (g) => binaryRaw('pow_bwd', g, x, e));
export const relu = (x: Tensor) => unaryOp('relu', x, 0, (g) => binaryRaw('relu_bwd', g, x));
export const gelu = (x: Tensor) => unaryOp('gelu', x, 0, (g) => binaryRaw('gelu_bwd', g, x));
export const silu = (x: Tensor) => unaryOp('silu', x, 0, (g) => binaryRaw('silu_bwd', g, x));
export const sigmoid = (x: Tensor) => unaryOp('sigmoid', x, 0, (g, y) => binaryRaw('sigmoid_bwd', g, y));
export const mulScalar = (x: Tensor, s: number) => unaryOp('mul_scalar', x, s, (g) => unaryRaw('mul_scalar', g, s));
export const addScalar = (x: Tensor, s: number) => unaryOp('add_scalar', x, s, (g) => unaryRaw('copy', g));
