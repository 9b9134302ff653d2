// softmax / logSoftmax over the last axis, with a fused backward op (its own GPU kernel and float64
// reference) so the backward rule runs on both backends:
//   softmax:     dx = y ⊙ (g − Σ g⊙y)        log-softmax: dx = g − softmax(x) · Σ g
import { record } from '../autograd.ts';
import { autotune, autotuneEnabled, tunedChoice, type TuneOpts } from '../autotune.ts';
import { rand } from '../create.ts';
import { launch, grid1d, sync } from '../runtime.ts';
import { assertDtype, assertLive, assertSameBackend, empty, Tensor } from '../tensor.ts';
import { softmaxKernel, SM_THREAD_WG, type SoftmaxKind, type SoftmaxLayout } from '../../kernels/softmax/rows.ts';
import { SM_SUBGROUP_WG, softmaxSubgroupKernel } from '../../kernels/softmax/subgroup.ts';
import { SM_THREAD_VEC4_WG, softmaxThreadVec4Kernel } from '../../kernels/softmax/thread-vec4.ts';
import { gpuSync } from '../device.ts';
import { softmaxBackwardRef, softmaxRef } from '../reference/softmax.ts';

/** Rows at least this long get a workgroup each; shorter rows get one invocation each. */
export const SOFTMAX_WORKGROUP_MIN_LEN = 128;

/** Rows at least this long get a subgroup each where the adapter has the subgroup layout. */
export const SOFTMAX_SUBGROUP_MIN_LEN = 16;

/** The subgroup size of the subgroup layout, or null where the adapter cannot run it (no fixed size dividing its workgroup). */
function subgroupLayoutSize(): number | null {
  const SG = gpuSync().info.subgroupSize;
  return SG !== null && SM_SUBGROUP_WG % SG === 0 ? SG : null;
}

/** Rows from which CPU adapters give each row of a multiple of 4 an invocation with vec4 loads (8 workgroups of 64; 64 rows × 8192 ran 1.0 → 1.5 ms on one workgroup). */
export const SOFTMAX_THREAD_VEC4_MIN_ROWS = 512;

/**
 * The fixed rule (used when untuned). On CPU adapters: many rows of a multiple of 4 an invocation
 * each with vec4 loads ('thread-vec4'; GPU ms against the subgroup layout, median of 5 alternating
 * rounds, 2026-12-06: forward 4096 × 1024 8.2 → 6.2, 1024 × 3000 5.2 → 4.2, 16384 × 64 3.1 → 1.7,
 * 4096 × 256 2.1 → 1.5, 512 × 4096 3.1 → 3.0, 256 × 1024 equal, 64 × 8192 1.0 → 1.5 (one workgroup);
 * backward 4096 × 1024 9.2 → 7.3, 1024 × 3000 6.1 → 4.5, 16384 × 64 3.6 → 2.4, 512 × 4096 3.2 → 3.3);
 * otherwise, with fixed subgroups, rows of 16 or more a subgroup each
 * (4096 × 1024, adapter-thread CPU: forward 47–51 ms with a workgroup per row → 9.5–15 ms, backward
 * 40–41 → 13–14 ms); elsewhere long rows get a workgroup, short rows an invocation.
 */
export function softmaxLayout(len: number, rows = 0): SoftmaxLayout {
  const soft = gpuSync().info.isSoftware;
  if (soft && len % 4 === 0 && len >= SOFTMAX_SUBGROUP_MIN_LEN && rows >= SOFTMAX_THREAD_VEC4_MIN_ROWS) return 'thread-vec4';
  if (soft && subgroupLayoutSize() !== null && len >= SOFTMAX_SUBGROUP_MIN_LEN) return 'subgroup';
  return len >= SOFTMAX_WORKGROUP_MIN_LEN ? 'workgroup' : 'thread';
}

/** The layouts this adapter can run ('thread-vec4' runs 'thread' where a row is not a multiple of 4). */
export function softmaxLayouts(): SoftmaxLayout[] {
  return subgroupLayoutSize() === null ? ['thread', 'workgroup', 'thread-vec4'] : ['thread', 'workgroup', 'subgroup', 'thread-vec4'];
}

/**
 * Autotune bucket: ⌊log2⌋ classes of the row count and the row length. The layouts trade
 * parallelism across rows (thread: one invocation per row) against parallelism within a row
 * (workgroup: barriers per reduction), so both numbers matter, within a factor of two neither does.
 */
export function softmaxBucket(rows: number, len: number): string {
  const lg = (x: number) => Math.floor(Math.log2(Math.max(1, x)));
  return `rows2^${lg(rows)},len2^${lg(len)}`;
}

let forcedLayout: SoftmaxLayout | null = null;
/** Forces one layout for every GPU softmax (tests, benchmarks); null restores the tuned/fixed choice. */
export function setSoftmaxLayout(layout: SoftmaxLayout | null): void {
  if (layout !== null && !softmaxLayouts().includes(layout)) throw new Error(`setSoftmaxLayout: "${layout}" is not a layout of this adapter (${softmaxLayouts().join(', ')})`);
  forcedLayout = layout;
}

/** The layout a softmax over [rows, len] runs: the forced one, the tuned choice for its bucket, else the fixed rule. */
export function softmaxLayoutFor(rows: number, len: number): SoftmaxLayout {
  if (forcedLayout) return forcedLayout;
  const tuned = tunedChoice('softmax', softmaxBucket(rows, len)) as SoftmaxLayout | undefined;
  return tuned !== undefined && softmaxLayouts().includes(tuned) ? tuned : softmaxLayout(len, rows);
}

/**
 * Measures both layouts (forward softmax; the backward and log-softmax share the layout's reduction
 * structure) on random [rows, len] inputs at each bucket's lower bounds, caching the faster one.
 * With autotuning off it returns the fixed rule's choice and runs nothing.
 */
export async function tuneSoftmax(shapes: readonly { rows: number; len: number }[], opts: TuneOpts = {}): Promise<Map<string, SoftmaxLayout>> {
  const out = new Map<string, SoftmaxLayout>();
  for (const s of shapes) {
    const bucket = softmaxBucket(s.rows, s.len);
    if (out.has(bucket)) continue;
    const [, r, l] = /^rows2\^(\d+),len2\^(\d+)$/.exec(bucket)!.map(Number) as [number, number, number];
    const rows = 2 ** r;
    const len = 2 ** l;
    const fallback = softmaxLayout(len, rows);
    if (!autotuneEnabled()) {
      out.set(bucket, fallback);
      continue;
    }
    const x = rand([rows, len], { seed: 13, lo: -4, hi: 4 });
    try {
      const variants = softmaxLayouts().map((layout) => ({
        name: layout,
        async run() {
          const y = empty([rows, len]);
          launchRows('softmax', 'fwd', [x, y], rows, len, 'softmax', layout);
          await sync();
          y.dispose();
        },
      }));
      out.set(bucket, (await autotune({ op: 'softmax', bucket }, variants, { fallback, ...opts })) as SoftmaxLayout);
    } finally {
      x.dispose();
    }
  }
  return out;
}

function rowsOf(x: Tensor): [number, number] {
  const len = x.shape[x.rank - 1]!;
  return [len === 0 ? 0 : x.size / len, len];
}

function launchRows(kind: SoftmaxKind, pass: 'fwd' | 'bwd', ts: Tensor[], rows: number, len: number, op: string, layout = softmaxLayoutFor(rows, len)): void {
  if (layout === 'thread-vec4' && len % 4 === 0) {
    launch(softmaxThreadVec4Kernel(kind, pass), ts, grid1d(Math.ceil(rows / SM_THREAD_VEC4_WG)), [rows, len], op);
    return;
  }
  const SG = layout === 'subgroup' ? subgroupLayoutSize() : null;
  if (SG !== null) {
    const k = softmaxSubgroupKernel(kind, pass, len % 4 === 0, SG);
    launch(k, ts, grid1d(Math.ceil(rows / (SM_SUBGROUP_WG / SG))), [rows, len], op);
    return;
  }
  // a subgroup layout tuned on another adapter runs a workgroup per row; thread-vec4 on rows not of a multiple of 4 the thread kernel
  const fixed = layout === 'subgroup' ? 'workgroup' : layout === 'thread-vec4' ? 'thread' : layout;
  const grid = fixed === 'thread' ? grid1d(Math.ceil(rows / SM_THREAD_WG)) : grid1d(rows);
  launch(softmaxKernel(kind, pass, fixed), ts, grid, [rows, len], op);
}

/** The fused backward: y is the forward output (probabilities, or log-probabilities for logsoftmax). */
export function softmaxBackward(kind: SoftmaxKind, y: Tensor, g: Tensor): Tensor {
  const op = `${kind}_backward`;
  assertLive(op, y, g);
  assertSameBackend(op, y, g);
  if (y.shape.join(',') !== g.shape.join(',')) {
    throw new Error(`${op}: gradient [${g.shape.join(', ')}] does not match output [${y.shape.join(', ')}]`);
  }
  const dx = empty(y.shape, 'f32', y.backend);
  const [rows, len] = rowsOf(y);
  if (dx.size === 0) return dx;
  if (y.backend === 'cpu') softmaxBackwardRef(kind, y.cpu!, g.cpu!, len, dx.cpu!);
  else launchRows(kind, 'bwd', [y, g, dx], rows, len, op);
  return dx;
}

function softmaxOp(kind: SoftmaxKind, x: Tensor): Tensor {
  assertLive(kind, x);
  assertDtype(kind, x, 'f32');
  if (x.rank === 0) throw new Error(`${kind}: needs at least one axis, got shape []`);
  const y = empty(x.shape, 'f32', x.backend);
  const [rows, len] = rowsOf(x);
  if (y.size > 0) {
    if (x.backend === 'cpu') softmaxRef(kind, x.cpu!, len, y.cpu!);
    else launchRows(kind, 'fwd', [x, y], rows, len, kind);
  }
  return record(y, kind, [x], (g) => [softmaxBackward(kind, y, g)]);
}

/** exp(x − max) / Σ exp(x − max) over the last axis. */
export const softmax = (x: Tensor) => softmaxOp('softmax', x);
/** x − max − log Σ exp(x − max) over the last axis. */
export const logSoftmax = (x: Tensor) => softmaxOp('logsoftmax', x);
