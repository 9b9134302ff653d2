// RMSNorm and LayerNorm over the last axis, fused forward and backward. The forward saves the
// per-row statistics (r, or μ and r) that the backward kernels reuse instead of recomputing them.
// Forward/backward: kernels/norm/rows.ts on the GPU, engine/reference/norm.ts in float64.
import { record } from '../autograd.ts';
import { launch, grid1d } from '../runtime.ts';
import { assertDtype, assertLive, assertSameBackend, empty, Tensor } from '../tensor.ts';
import { normBackwardW, normBackwardX, normForward, NORM_WG, type NormKind } from '../../kernels/norm/rows.ts';
import { NORM_SG_ROWS, NORM_SG_WG, normBackwardSubgroup, normSumParts } from '../../kernels/norm/subgroup.ts';
import { NORM_SEG_ROWS, normBackwardSegments, normRowCoefs } from '../../kernels/norm/segments.ts';
import { normBackwardRef, normForwardRef } from '../reference/norm.ts';
import { subgroupKernelSize } from '../kernel-family.ts';

/**
 * The subgroup size for the subgroup norm backward (kernels/norm/subgroup.ts: dx and the weight
 * gradient's partial sums in one pass), or null for the row kernels: the subgroup family where it is
 * chosen (engine/kernel-family.ts), for rows with D % 4 = 0 of at most 32·SG floats. Measured on
 * lavapipe, adapter-thread CPU, rmsNorm backward: 8192 × 64 2.06–2.15 → 1.40–1.44 ms, 1776 × 128
 * 0.92–0.95 → 0.53–0.58 ms. Longer rows in registers do not pay: the bound raised to 64·SG floats
 * against the segment kernels (2026-12-06, GPU ms, median of 5 alternating rounds, two runs):
 * 2048 × 896 (28 vec4 a lane) 4.65 / 4.88 / 5.49 / 5.24 → 5.65 / 5.92 / 5.42 / 5.85, 4096 × 512
 * 5.63 / 6.11 → 6.09 / 6.38, 2048 × 384 3.13 / 2.29 → 3.67 / 2.45, 1024 × 512 1.73 / 2.01 → 1.82 / 2.22;
 * only 8192 × 320 was ahead, 7.69 / 9.38 → 7.13 / 6.92, within its rounds' spread (6.0–11.6).
 */
function normSubgroupSize(D: number): number | null {
  const SG = subgroupKernelSize(NORM_SG_WG);
  return SG !== null && D % 4 === 0 && D / 4 <= 8 * SG ? SG : null;
}

let rowsBackward = false;
/** Tests and benchmarks: the row kernels (kernels/norm/rows.ts) for every backward the subgroup kernel does not take, instead of the segment kernels for D % 4 = 0; false restores the rule. */
export function setNormRowsBackward(on: boolean): void {
  rowsBackward = on;
}

function checkNorm(op: string, x: Tensor, weight: Tensor, bias: Tensor | null): number {
  const ts = bias ? [x, weight, bias] : [x, weight];
  assertLive(op, ...ts);
  for (const t of ts) assertDtype(op, t, 'f32');
  assertSameBackend(op, ...ts);
  const shapes = `x [${x.shape.join(', ')}], weight [${weight.shape.join(', ')}]${bias ? `, bias [${bias.shape.join(', ')}]` : ''}`;
  if (x.rank < 1 || x.shape[x.rank - 1] === 0) throw new Error(`${op}: x needs a non-empty last axis (${shapes})`);
  const D = x.shape[x.rank - 1]!;
  if (weight.rank !== 1 || weight.shape[0] !== D) throw new Error(`${op}: weight must have shape [${D}] (${shapes})`);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== D)) throw new Error(`${op}: bias must have shape [${D}] (${shapes})`);
  return D;
}

/** Raw forward (no autograd; the caller owns both): y and the saved stats ([rows] for rms, [rows, 2] for layer). */
export function normForwardRaw(kind: NormKind, x: Tensor, w: Tensor, b: Tensor | null, D: number, eps: number): [Tensor, Tensor] {
  const rows = x.size / D;
  const y = empty(x.shape, 'f32', x.backend);
  const stats = empty(kind === 'layer' ? [rows, 2] : [rows], 'f32', x.backend);
  if (rows === 0) return [y, stats];
  if (x.backend === 'cpu') {
    const r = normForwardRef(kind, x.cpu as Float64Array, w.cpu as Float64Array, b ? (b.cpu as Float64Array) : null, rows, D, eps);
    (y.cpu as Float64Array).set(r.y);
    (stats.cpu as Float64Array).set(r.stats);
    return [y, stats];
  }
  const vec = D % 4 === 0;
  const ins = b ? [x, w, b] : [x, w];
  launch(normForward(kind, vec), [...ins, y, stats], grid1d(Math.ceil(rows / NORM_WG)), [rows, vec ? D / 4 : D, D, { f: eps }], `${kind}Norm`);
  return [y, stats];
}

/**
 * Raw backward: [dx, dw, db] (db only for layer; null where not needed). With `into` (x's gradient so
 * far, f32, its storage its own: GradNode.backward's `into`), the subgroup kernel adds dx into it in
 * place and returns it as dx; the row kernels ignore it (autograd then adds).
 */
export function normBackward(
  kind: NormKind,
  x: Tensor,
  w: Tensor,
  stats: Tensor,
  dy: Tensor,
  need: { x: boolean; w: boolean; b: boolean },
  into: Tensor | null = null,
  intoW: Tensor | null = null,
): [Tensor | null, Tensor | null, Tensor | null] {
  const D = x.shape[x.rank - 1]!;
  const rows = x.size / D;
  const op = `${kind}Norm backward`;
  if (dy.shape.join(',') !== x.shape.join(',')) throw new Error(`${op}: dy [${dy.shape.join(', ')}] != x [${x.shape.join(', ')}]`);
  const wantW = need.w || need.b;
  // D % 4 = 0: the subgroup kernel (rows it holds in registers) or the segment kernels, both of which add in place
  const sums = D % 4 === 0 && (!rowsBackward || normSubgroupSize(D) !== null);
  const acc = need.x && into !== null && x.backend === 'gpu' && rows > 0 && sums && into.dtype === 'f32' && into.size === x.size && into.gpu?.refs === 1;
  const dx = need.x ? (acc ? into : empty(x.shape, 'f32', x.backend)) : null;
  // rmsNorm's dw summed into the weight's gradient so far (autograd's `into`: a weight two sub-batches use) by the partials' sum
  const accW = need.w && kind === 'rms' && intoW !== null && x.backend === 'gpu' && rows > 0 && sums && intoW.dtype === 'f32' && intoW.size === D && intoW.gpu?.refs === 1;
  const dw = wantW ? (accW ? intoW : empty([D], 'f32', x.backend)) : null;
  const db = wantW && kind === 'layer' ? empty([D], 'f32', x.backend) : null;
  if (x.backend === 'cpu') {
    const r = normBackwardRef(kind, x.cpu as Float64Array, w.cpu as Float64Array, stats.cpu as Float64Array, dy.cpu as Float64Array, rows, D);
    if (dx) (dx.cpu as Float64Array).set(r.dx);
    if (dw) (dw.cpu as Float64Array).set(r.dw);
    if (db) (db.cpu as Float64Array).set(r.db);
  } else if (normSubgroupSize(D) !== null && rows > 0) {
    // one pass for dx and the partial column sums of dw (db), then the partials are added
    const SG = normSubgroupSize(D)!;
    const dv = D / 4;
    const subs = Math.ceil(rows / NORM_SG_ROWS);
    const part = wantW ? empty([subs * D * (kind === 'layer' ? 2 : 1)], 'f32', 'gpu') : empty([4], 'f32', 'gpu');
    const dxb = dx ?? empty([4], 'f32', 'gpu');
    const k = normBackwardSubgroup(kind, dv, SG, dx !== null, wantW, acc);
    launch(k, [x, w, stats, dy, dxb, part], grid1d(Math.ceil(subs / (NORM_SG_WG / SG))), [rows, dv, D, { f: 0 }], op);
    if (dw) launch(normSumParts(kind, accW), db ? [part, dw, db] : [part, dw], [Math.ceil(dv / 64), 1, 1], [subs, dv], op);
    part.dispose();
    if (!dx) dxb.dispose();
  } else if (sums && rows > 0) {
    // the rows' means, then dx and the segments' partial column sums of dw (db) in one pass over
    // segments of NORM_SEG_ROWS rows, then the partials are added
    const dv = D / 4;
    const segs = Math.ceil(rows / NORM_SEG_ROWS);
    const coef = dx ? empty([rows * (kind === 'layer' ? 2 : 1)], 'f32', 'gpu') : empty([4], 'f32', 'gpu');
    if (dx) launch(normRowCoefs(kind), [x, w, stats, dy, coef], grid1d(Math.ceil(rows / NORM_WG)), [rows, dv, D], op);
    const part = wantW ? empty([segs * D * (kind === 'layer' ? 2 : 1)], 'f32', 'gpu') : empty([4], 'f32', 'gpu');
    const dxb = dx ?? empty([4], 'f32', 'gpu');
    launch(normBackwardSegments(kind, dx !== null, wantW, acc), [x, w, stats, coef, dy, dxb, part], grid1d(Math.ceil((segs * dv) / NORM_WG)), [rows, dv, NORM_SEG_ROWS, segs], op);
    if (dw) launch(normSumParts(kind, accW), db ? [part, dw, db] : [part, dw], [Math.ceil(dv / 64), 1, 1], [segs, dv], op);
    coef.dispose();
    part.dispose();
    if (!dx) dxb.dispose();
  } else {
    const vec = D % 4 === 0;
    const dv = vec ? D / 4 : D;
    const params = [rows, dv, D, { f: 0 }];
    if (dx && rows > 0) launch(normBackwardX(kind, vec), [x, w, stats, dy, dx], grid1d(Math.ceil(rows / NORM_WG)), params, op);
    if (dw) launch(normBackwardW(kind, vec), db ? [x, stats, dy, dw, db] : [x, stats, dy, dw], grid1d(Math.ceil(dv / NORM_WG)), params, op);
  }
  const keepDw = need.w ? dw : null;
  const keepDb = need.b ? db : null;
  if (dw && !keepDw) dw.dispose();
  if (db && !keepDb) db.dispose();
  return [dx, keepDw, keepDb];
}

function normOp(op: string, kind: NormKind, x: Tensor, weight: Tensor, bias: Tensor | null, eps: number): Tensor {
  const D = checkNorm(op, x, weight, bias);
  const [y, stats] = normForwardRaw(kind, x, weight, bias, D, eps);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  record(y, op, inputs, (g, into) => normBackward(kind, x, weight, stats, g, { x: x.requiresGrad, w: weight.requiresGrad, b: !!bias?.requiresGrad }, into?.[0] ?? null, into?.[1] ?? null).slice(0, inputs.length));
  if (!y.node) stats.dispose(); // no backward will read it
  return y;
}

/** y = x / sqrt(mean(x²) + eps) ⊙ weight over the last axis (Llama). */
export function rmsNorm(x: Tensor, weight: Tensor, eps = 1e-6): Tensor {
  return normOp('rmsNorm', 'rms', x, weight, null, eps);
}

/** y = (x − mean(x)) / sqrt(var(x) + eps) ⊙ weight + bias over the last axis (biased variance). */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  return normOp('layerNorm', 'layer', x, weight, bias, eps);
}
