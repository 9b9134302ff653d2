// LoRA linear (Hu et al. 2021) as Hugging Face PEFT computes it:
//   y = x·Wᵀ + (alpha/r) · dropout(x)·Aᵀ·Bᵀ
// with dropout on the LoRA branch only, W frozen, A [r, in] ~ U(−1/√in, 1/√in) and B [out, r] = 0
// (so an untrained adapter leaves the base output unchanged). Kernels (kernels/lora/*):
//   forward:  lora_down  t = s·(keep ⊙ x)·Aᵀ           (dropout fused into the loads; lora_down_v4 where K % 4 = 0)
//             lora_out   y = x·Wᵀ + t·Bᵀ               (base matmul with the up-projection as epilogue)
//   backward: u = g·B (matmul), lora_dx (dx = g·W + s·keep ⊙ (u·A)), lora_da (lora_da_v4 and, in row
//             chunks, lora_da_sum where K % 4 = 0), dB = gᵀ·t (matmul).
// Where the matmul runs the subgroup-broadcast kernel (CPU adapters), lora_out and lora_dx are that
// kernel with the LoRA product as a second product (matmulPlusRaw): on lavapipe the 4×4-tile LoRA
// kernels ran at a quarter of its speed (small preset, 1024 × 128 × 128: 8.4 ms vs ≈ 2 ms).
import { record } from '../autograd.ts';
import { fill, rand, zeros } from '../create.ts';
import { grid1d, launch, read } from '../runtime.ts';
import { keep } from '../scope.ts';
import { assertDtype, assertLive, assertSameBackend, empty, Tensor, view, type Backend } from '../tensor.ts';
import { loraDown, LORA_DOWN_WG } from '../../kernels/lora/down.ts';
import { loraOut, LORA_OUT_WG } from '../../kernels/lora/out.ts';
import { loraDx, LORA_DX_WG } from '../../kernels/lora/dx.ts';
import { loraDa, LORA_DA_WG } from '../../kernels/lora/da.ts';
import { loraDownVec4, LORA_DOWN4_WG } from '../../kernels/lora/down-vec4.ts';
import { loraDaSum, loraDaVec4, LORA_DA4_WG } from '../../kernels/lora/da-vec4.ts';
import { loraMergeKernel, LORA_MERGE_WG } from '../../kernels/lora/merge.ts';
import { dropScale, dropThreshold } from '../reference/dropout.ts';
import { loraBwdRef, loraFwdRef, loraMergeRef, type LoraDims } from '../reference/lora.ts';
import { matmulPlusRaw, matmulRaw } from './matmul.ts';
import { gpuSync } from '../device.ts';
import { checkDropout } from './dropout.ts';

export interface LoraOpts {
  scale: number; // alpha / r
  dropout: number; // probability p on the LoRA branch
  seed: number; // dropout seed (u32); change it every step
  training: boolean; // dropout only in training
}

const shp = (t: Tensor) => `[${t.shape.join(', ')}]`;

function checkLora(x: Tensor, w: Tensor, a: Tensor, b: Tensor, o: LoraOpts): void {
  assertLive('loraLinear', x, w, a, b);
  for (const t of [x, w, a, b]) assertDtype('loraLinear', t, 'f32');
  assertSameBackend('loraLinear', x, w, a, b);
  const inF = x.shape[x.rank - 1];
  const ok =
    x.rank >= 1 && w.rank === 2 && a.rank === 2 && b.rank === 2 &&
    w.shape[1] === inF && a.shape[1] === inF && b.shape[0] === w.shape[0] && b.shape[1] === a.shape[0] && a.shape[0]! > 0;
  if (!ok) {
    throw new Error(
      `loraLinear: shapes do not fit: x ${shp(x)}, W ${shp(w)}, A ${shp(a)}, B ${shp(b)} (expected x [..., in], W [out, in], A [r, in], B [out, r], r ≥ 1)`,
    );
  }
  if (!Number.isFinite(o.scale)) throw new Error(`loraLinear: scale ${o.scale} is not finite`);
  checkDropout('loraLinear', o.dropout, o.seed);
}

function forward(x2: Tensor, w: Tensor, a: Tensor, b: Tensor, d: LoraDims): { y: Tensor; t: Tensor } {
  const y = empty([d.M, d.N], 'f32', x2.backend);
  const t = empty([d.M, d.R], 'f32', x2.backend);
  if (x2.backend === 'cpu') {
    const r = loraFwdRef(x2.cpu as Float64Array, w.cpu as Float64Array, a.cpu as Float64Array, b.cpu as Float64Array, d);
    (y.cpu as Float64Array).set(r.y);
    (t.cpu as Float64Array).set(r.t);
    return { y, t };
  }
  if (d.M === 0 || d.N === 0) return { y, t };
  if (d.K === 0) throw new Error('loraLinear: in = 0 is not supported on the GPU');
  const drop = d.thr > 0;
  const rb = Math.ceil(d.R / 4);
  if (d.K % 4 === 0) {
    const RM = DOWN_ROWS;
    launch(loraDownVec4(drop, RM), [x2, a, t], grid1d(Math.ceil((Math.ceil(d.M / RM) * rb) / LORA_DOWN4_WG)), [d.M, d.K, d.R, d.seed, d.thr, { f: d.s }], 'loraLinear (down)');
  } else {
    launch(loraDown(drop), [x2, a, t], grid1d(Math.ceil((d.M * rb) / LORA_DOWN_WG)), [d.M, d.K, d.R, d.seed, d.thr, { f: d.s }], 'loraLinear (down)');
  }
  const fused = matmulPlusRaw(x2, w, false, true, t, b, false, true, { s2: 1, seed: 0, thr: 0 }, 'loraLinear (out)');
  if (fused) {
    y.dispose();
    return { y: fused, t };
  }
  const grid: [number, number, number] = [Math.ceil(d.N / (4 * LORA_OUT_WG[0])), Math.ceil(d.M / (4 * LORA_OUT_WG[1])), 1];
  launch(loraOut(d.K % 4 === 0), [x2, w, t, b, y], grid, [d.M, d.N, d.K, d.R], 'loraLinear (out)');
  return { y, t };
}

/** Rows per invocation of lora_down_v4. ms per call at the tiny step's 1024 × 64, r 4 (wall of 50 calls,
 * median of 7, lavapipe 2026-12-05): the one-row kernel 0.294, RM 1 / 2 / 4 / 8: 0.196 / 0.151 / 0.149 / 0.146. */
const DOWN_ROWS = 4;

let daChunks: number | null = null;
/** Forces the row chunks of dA (tests reach the two-launch path on a CPU adapter); null: the rule. */
export function setLoraDaChunks(c: number | null): void {
  daChunks = c;
}

/**
 * Row chunks of the vec4 dA kernel. On CPU adapters one launch: at 1024 × 64, r 4 (lavapipe, ms per
 * call as DOWN_ROWS) da.ts 0.193, one chunk 0.170, 4–32 chunks and their sum 0.217–0.222 (the second
 * launch costs more than the other thread gains). On GPUs enough chunks for ≈ 1024 invocations of
 * at least 32 rows, so a long M is not one invocation's loop.
 */
function daChunkCount(d: LoraDims): number {
  if (daChunks !== null) return Math.max(1, Math.min(daChunks, d.M));
  if (gpuSync().info.isSoftware) return 1;
  return Math.max(1, Math.min(Math.ceil(1024 / (Math.ceil(d.R / 4) * (d.K / 4))), Math.ceil(d.M / 32)));
}

/** dA by the vec4 kernel: the rows in daChunkCount chunks, then (more than one) their sum. */
function daVec4(u: Tensor, x2: Tensor, d: LoraDims): Tensor {
  const rb = Math.ceil(d.R / 4);
  const k4 = d.K / 4;
  const drop = d.thr > 0;
  const seg = Math.max(1, Math.ceil(d.M / daChunkCount(d)));
  const C = Math.max(1, Math.ceil(d.M / seg));
  const uVec = d.R % 4 === 0;
  const da = empty([d.R, d.K], 'f32', 'gpu');
  const part = C === 1 ? da : empty([C * d.R * d.K], 'f32', 'gpu');
  launch(loraDaVec4(drop, uVec), [u, x2, part], grid1d(Math.ceil((C * rb * k4) / LORA_DA4_WG)), [d.M, d.K, d.R, d.seed, d.thr, { f: d.s }, seg, C], 'loraLinear backward (dA)');
  if (C > 1) {
    const n = (d.R * d.K) / 4;
    launch(loraDaSum, [part, da], grid1d(Math.ceil(n / LORA_DA4_WG)), [n, C], 'loraLinear backward (dA sum)');
    part.dispose();
  }
  return da;
}

function backwardRule(g2: Tensor, x2: Tensor, w: Tensor, a: Tensor, b: Tensor, t: Tensor, d: LoraDims, want: [boolean, boolean, boolean]): [Tensor | null, Tensor | null, Tensor | null] {
  const [wx, wa, wb] = want;
  if (x2.backend === 'cpu') {
    const r = loraBwdRef(g2.cpu as Float64Array, x2.cpu as Float64Array, w.cpu as Float64Array, a.cpu as Float64Array, b.cpu as Float64Array, t.cpu as Float64Array, d);
    const mk = (data: Float64Array, shape: number[]) => {
      const o = empty(shape, 'f32', 'cpu');
      (o.cpu as Float64Array).set(data);
      return o;
    };
    return [wx ? mk(r.dx, [d.M, d.K]) : null, wa ? mk(r.da, [d.R, d.K]) : null, wb ? mk(r.db, [d.N, d.R]) : null];
  }
  const drop = d.thr > 0;
  let dx: Tensor | null = null;
  let da: Tensor | null = null;
  const u = wx || wa ? matmulRaw(g2, b) : null; // [M, R]
  if (wx) dx = matmulPlusRaw(g2, w, false, false, u!, a, false, false, { s2: d.s, seed: d.seed, thr: d.thr }, 'loraLinear backward (dx)');
  if (wx && !dx) {
    dx = empty([d.M, d.K], 'f32', 'gpu');
    const grid: [number, number, number] = [Math.ceil(d.K / (4 * LORA_DX_WG[0])), Math.ceil(d.M / (4 * LORA_DX_WG[1])), 1];
    launch(loraDx(drop, d.K % 4 === 0), [g2, w, u!, a, dx], grid, [d.M, d.N, d.K, d.R, d.seed, d.thr, { f: d.s }], 'loraLinear backward (dx)');
  }
  if (wa && d.K % 4 === 0) {
    da = daVec4(u!, x2, d);
  } else if (wa) {
    da = empty([d.R, d.K], 'f32', 'gpu');
    const grid: [number, number, number] = [Math.ceil(d.K / (4 * LORA_DA_WG[0])), Math.ceil(d.R / (4 * LORA_DA_WG[1])), 1];
    launch(loraDa(drop), [u!, x2, da], grid, [d.M, d.K, d.R, d.seed, d.thr, { f: d.s }], 'loraLinear backward (dA)');
  }
  u?.dispose();
  const db = wb ? matmulRaw(g2, t, true, false) : null; // [N, R]
  return [dx, da, db];
}

/**
 * y = x·Wᵀ + scale · dropout(x)·Aᵀ·Bᵀ for x [..., in], W [out, in], A [r, in], B [out, r].
 * W is frozen: it never receives a gradient, even if its requiresGrad is set (dW is not computed).
 * Gradients flow to x, A and B.
 */
export function loraLinear(x: Tensor, w: Tensor, a: Tensor, b: Tensor, opts: LoraOpts): Tensor {
  checkLora(x, w, a, b, opts);
  const K = w.shape[1]!;
  const N = w.shape[0]!;
  const R = a.shape[0]!;
  const M = x.shape.slice(0, -1).reduce((p, q) => p * q, 1);
  const drop = opts.training && opts.dropout > 0;
  const d: LoraDims = {
    M, N, K, R,
    s: opts.scale * (drop ? dropScale(opts.dropout) : 1),
    thr: drop ? dropThreshold(opts.dropout) : 0,
    seed: opts.seed >>> 0,
  };
  const x2 = view(x, [M, K]);
  const { y, t } = forward(x2, w, a, b, d);
  const out = view(y, [...x.shape.slice(0, -1), N]);
  y.dispose();
  const needs = x.requiresGrad || a.requiresGrad || b.requiresGrad;
  if (!needs) {
    x2.dispose();
    t.dispose();
  }
  // W is listed so backward checks it is still alive, and gets null
  return record(out, 'loraLinear', [x, w, a, b], (g) => {
    const g2 = view(g, [M, N]);
    const [dx, da, db] = backwardRule(g2, x2, w, a, b, t, d, [x.requiresGrad, a.requiresGrad, b.requiresGrad]);
    g2.dispose();
    let gx: Tensor | null = null;
    if (dx) {
      gx = view(dx, x.shape);
      dx.dispose();
    }
    return [gx, null, da, db];
  });
}

/**
 * A fresh adapter as PEFT initialises it: A ~ U(−1/√in, 1/√in) (kaiming-uniform with a = √5),
 * B = 0. Both are kept (the caller owns them) and require gradients.
 */
export function loraInit(inFeatures: number, outFeatures: number, r: number, seed: number, backend: Backend = 'gpu'): { a: Tensor; b: Tensor } {
  if (![inFeatures, outFeatures, r].every((v) => Number.isInteger(v) && v > 0)) {
    throw new Error(`loraInit: in ${inFeatures}, out ${outFeatures} and r ${r} must be positive integers`);
  }
  const bound = 1 / Math.sqrt(inFeatures);
  const a = rand([r, inFeatures], { seed, lo: -bound, hi: bound, backend, requiresGrad: true });
  const b = zeros([outFeatures, r], backend);
  b.requiresGrad = true;
  return { a: keep(a), b: keep(b) };
}

async function mergeInPlace(op: string, w: Tensor, a: Tensor, b: Tensor, s: number): Promise<void> {
  assertLive(op, w, a, b);
  for (const t of [w, a, b]) assertDtype(op, t, 'f32');
  assertSameBackend(op, w, a, b);
  if (w.rank !== 2 || a.rank !== 2 || b.rank !== 2 || a.shape[1] !== w.shape[1] || b.shape[0] !== w.shape[0] || b.shape[1] !== a.shape[0]) {
    throw new Error(`${op}: shapes do not fit: W ${shp(w)}, A ${shp(a)}, B ${shp(b)} (expected W [out, in], A [r, in], B [out, r])`);
  }
  if (!Number.isFinite(s)) throw new Error(`${op}: scale ${s} is not finite`);
  const [N, K] = w.shape as [number, number];
  const R = a.shape[0]!;
  if (w.backend === 'cpu') {
    const m = loraMergeRef(w.cpu as Float64Array, a.cpu as Float64Array, b.cpu as Float64Array, N, K, R, s);
    if (!m.every(Number.isFinite)) throw new Error(`${op}: merged weight ${shp(w)} would contain non-finite values; W left unchanged`);
    (w.cpu as Float64Array).set(m);
    return;
  }
  const out = empty([N, K], 'f32', 'gpu');
  const flag = fill([1], 0, 'gpu', 'u32');
  try {
    if (w.size > 0) launch(loraMergeKernel, [w, b, a, out, flag], grid1d(Math.ceil(w.size / LORA_MERGE_WG)), [N, K, R, { f: s }], op);
    const bad = (await read(flag))[0]!;
    if (bad !== 0) throw new Error(`${op}: merged weight ${shp(w)} would contain non-finite values; W left unchanged`);
    // swap storage: W keeps its identity
    const old = w.gpu;
    w.gpu = out.gpu;
    out.gpu = old;
  } finally {
    out.dispose();
    flag.dispose();
  }
}

/** W ← W + scale·B·A in place (for inference). Throws, leaving W unchanged, if any result is not finite. */
export function loraMerge(w: Tensor, a: Tensor, b: Tensor, scale: number): Promise<void> {
  return mergeInPlace('loraMerge', w, a, b, scale);
}

/** W ← W − scale·B·A in place (undoes loraMerge up to rounding). Same refusal rule. */
export function loraUnmerge(w: Tensor, a: Tensor, b: Tensor, scale: number): Promise<void> {
  return mergeInPlace('loraUnmerge', w, a, b, -scale);
}
