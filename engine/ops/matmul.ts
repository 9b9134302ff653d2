// matmul: 2-D or batched, either operand transposed; a 2-D right operand is shared by every batch.
//   C = op(A)·op(B),  dA = dC·op(B)ᵀ (transposed back if A was),  dB = op(A)ᵀ·dC (likewise).
import { record } from '../autograd.ts';
import { autotune, autotuneEnabled, tunedChoice, type TuneOpts } from '../autotune.ts';
import { rand } from '../create.ts';
import { gpuSync, type DeviceInfo } from '../device.ts';
import { launch, sync, type Kernel } from '../runtime.ts';
import { assertDtype, assertLive, assertSameBackend, empty, numel, Tensor } from '../tensor.ts';
import { view } from '../tensor.ts';
import { broadcastCols, matmulBroadcast, type BroadcastSpec } from '../../kernels/matmul/broadcast.ts';
import { matmulGeneric, GENERIC_TM, GENERIC_TN, GENERIC_WG } from '../../kernels/matmul/generic.ts';
import { matmulRegister, REG_TM, REG_TN, REG_WG } from '../../kernels/matmul/register.ts';
import { matmulTiled, TILE } from '../../kernels/matmul/tiled.ts';
import { matmulRef } from '../reference/matmul.ts';
import { sumTo } from './elementwise.ts';

export interface MatmulOpts {
  transA?: boolean;
  transB?: boolean;
}

interface Dims {
  batchShape: number[];
  batch: number;
  M: number;
  N: number;
  K: number;
  sA: number;
  sB: number;
}

function dims(a: Tensor, b: Tensor, tA: boolean, tB: boolean): Dims {
  const fail = (why: string) => {
    throw new Error(`matmul: ${why} (A [${a.shape.join(', ')}]${tA ? 'ᵀ' : ''}, B [${b.shape.join(', ')}]${tB ? 'ᵀ' : ''})`);
  };
  if (a.rank < 2 || b.rank < 2) fail('operands must have rank ≥ 2');
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const M = tA ? ac : ar;
  const K = tA ? ar : ac;
  const Kb = tB ? bc : br;
  const N = tB ? br : bc;
  if (K !== Kb) fail(`inner dimensions differ: ${K} vs ${Kb}`);
  const ba = a.shape.slice(0, -2);
  const bb = b.shape.slice(0, -2);
  let batchShape: number[];
  if (bb.length === 0) batchShape = ba;
  else if (ba.length === 0) batchShape = bb;
  else {
    if (ba.join(',') !== bb.join(',')) fail('batch dimensions differ');
    batchShape = ba;
  }
  const batch = numel(batchShape);
  return { batchShape, batch, M, N, K, sA: ba.length ? M * K : 0, sB: bb.length ? K * N : 0 };
}

export type MatmulVariant = 'generic' | 'register' | 'tiled' | 'broadcast' | 'broadcast32';
export const MATMUL_VARIANTS: readonly MatmulVariant[] = ['generic', 'register', 'tiled', 'broadcast', 'broadcast32'];

/** Rows of C per subgroup of the subgroup-broadcast variants (kernels/matmul/broadcast.ts). */
const BROADCAST_ROWS: Partial<Record<MatmulVariant, number>> = { broadcast: 16, broadcast32: 32 };

/** The problem a variant is chosen for. */
export interface MatmulDims {
  batch: number;
  M: number;
  N: number;
  K: number;
}

/**
 * Which kernel to run. Measured here (lavapipe): register tiling without workgroup memory is several
 * times faster than shared-memory tiling, whose barriers are pure overhead on a CPU; on hardware GPUs
 * shared-memory tiling is the classic winner. A tuned choice (tuneMatmul) takes precedence.
 */
export function chooseMatmulVariant(info: DeviceInfo, dims: MatmulDims): MatmulVariant {
  // Measured 2026-11-28 (bench/run.ts, same run per adapter): the 4×8 register tile wins on lavapipe
  // (≈5–10× the 16×16 workgroup-memory tile) and also on an NVIDIA H200 through Dawn/Vulkan
  // (4096³: register 19.4 TFLOP/s, tiled 4.9; 1024³: 7.0 vs 4.7), except tiny products (256³) where
  // the tiled kernel's fewer, fuller workgroups win. Measured 2026-11-30 on lavapipe (subgroups of
  // 8): the subgroup-broadcast tile runs the SFT step's products at 1.8–2.6× the register tile's
  // speed (adapter-thread CPU time). Where broadcast does not apply to a call (K % 4 ≠ 0, …) the
  // register tile runs. The autotuner can refine this per shape bucket.
  if (info.isSoftware) return info.subgroupSize !== null && dims.M * dims.N >= 256 ? 'broadcast' : 'register';
  return dims.M * dims.N < 512 * 512 ? 'tiled' : 'register';
}

let override: MatmulVariant | null = null;
/** Forces one variant for every GPU matmul (benchmarks, tests); null restores the tuned/fixed choice. */
export function setMatmulVariant(name: MatmulVariant | null): void {
  if (name !== null && !MATMUL_VARIANTS.includes(name)) {
    throw new Error(`setMatmulVariant: unknown variant "${name}" (one of ${MATMUL_VARIANTS.join(', ')})`);
  }
  override = name;
}

/**
 * Autotune bucket of a product: ⌊log2⌋ size classes of the output area (batch·M·N) and of K. The
 * variants differ in how many output tiles keep the adapter busy (area) and in how long each tile's
 * K loop amortises its set-up (K); within a factor of two of both, their order does not change.
 */
export function matmulBucket(d: MatmulDims): string {
  const lg = (x: number) => Math.floor(Math.log2(Math.max(1, x)));
  return `mn2^${lg(d.batch * d.M * d.N)},k2^${lg(d.K)}`;
}

/** The shape a bucket is tuned on: a single square-ish product at the bucket's lower bounds. */
export function matmulBucketShape(bucket: string): MatmulDims {
  const m = /^mn2\^(\d+),k2\^(\d+)$/.exec(bucket);
  if (!m) throw new Error(`matmulBucketShape: "${bucket}" is not a matmul bucket (mn2^a,k2^b)`);
  const a = Number(m[1]);
  return { batch: 1, M: 2 ** Math.ceil(a / 2), N: 2 ** Math.floor(a / 2), K: 2 ** Number(m[2]) };
}

/** The variant a GPU matmul of these dims runs: the override, else the tuned choice for its bucket, else the fixed rule. */
export function matmulVariantFor(d: MatmulDims): MatmulVariant {
  if (override) return override;
  const tuned = tunedChoice('matmul', matmulBucket(d)) as MatmulVariant | undefined;
  // a cache written by another version may name a variant this one lacks: ignore it
  if (tuned !== undefined && MATMUL_VARIANTS.includes(tuned)) return tuned;
  return chooseMatmulVariant(gpuSync().info, d);
}

/** The variant that really runs for these operands: the chosen one, or the register tile where the
 * broadcast kernel's layout conditions fail. */
export function matmulVariantRun(d: MatmulDims, tA = false, tB = false): MatmulVariant {
  const v = matmulVariantFor(d);
  const R = BROADCAST_ROWS[v];
  return R !== undefined && !broadcastSpec({ ...d, batchShape: [], sA: 0, sB: 0 }, tA, tB, R) ? 'register' : v;
}

/**
 * The subgroup-broadcast kernel's configuration for a product, or null where it does not apply: it
 * needs the adapter's fixed subgroup size, K % 4 = 0 (vec4 along K), M % 4 = 0 when A is stored
 * transposed and N % 4 = 0 when B is not (vec4 along M / N), and a grid that fits one dimension.
 * Tile (measured on lavapipe, adapter-thread CPU, among 8–32 rows × 1–4 column groups): 16 rows × 4
 * adjacent columns per lane, 32 columns per subgroup (SFT forward shapes 12–15 → 19.5–21.5 GFLOP/cpu-s
 * against one column per group). R = 32 rows (variant broadcast32) halves the loads of op(B) per FMA
 * at twice the accumulators: measured 2026-11-30 on lavapipe (adapter-thread CPU, load ≈ 3) 7–11%
 * faster on the tiny/small step's short-K products (K = 64–176: 1008×3000×64 NT 16.4 → 17.6,
 * 1024×64×176 NN 20.9 → 23.1 GFLOP/cpu-s), 9% slower at 1024³; the autotuner chooses per bucket.
 */
function broadcastSpec(d: Dims, tA: boolean, tB: boolean, R = 16): BroadcastSpec | null {
  const info = gpuSync().info;
  const SG = info.subgroupSize;
  if (SG === null || SG < 4 || d.K % 4 !== 0 || (tA && d.M % 4 !== 0) || (!tB && d.N % 4 !== 0)) return null;
  const s: BroadcastSpec = { aRows: !tA, bRows: tB, R, TN: 1, adj: true, SG, vecC: d.N % 4 === 0 };
  const groups = Math.ceil(d.M / s.R) * Math.ceil(d.N / broadcastCols(s));
  const maxGrid = info.limits.maxComputeWorkgroupsPerDimension ?? 65535;
  return groups <= maxGrid && d.batch <= maxGrid ? s : null;
}

/**
 * Measures every variant on random inputs of each bucket's shape (once per bucket and adapter; the
 * choice is cached on disk by engine/autotune.ts) so later matmuls in those buckets run the fastest.
 * Returns the choice per bucket; with autotuning off it returns the fixed rule's choice, running nothing.
 */
export async function tuneMatmul(list: readonly MatmulDims[], opts: TuneOpts = {}): Promise<Map<string, MatmulVariant>> {
  const out = new Map<string, MatmulVariant>();
  const info = gpuSync().info;
  for (const d of list) {
    const bucket = matmulBucket(d);
    if (out.has(bucket)) continue;
    const rep = matmulBucketShape(bucket);
    const fallback = chooseMatmulVariant(info, rep);
    if (!autotuneEnabled()) {
      out.set(bucket, fallback);
      continue;
    }
    const a = rand([rep.M, rep.K], { seed: 11, lo: 0.1, hi: 1 });
    const b = rand([rep.K, rep.N], { seed: 12, lo: 0.1, hi: 1 });
    const full: Dims = { batchShape: [], batch: 1, M: rep.M, N: rep.N, K: rep.K, sA: 0, sB: 0 };
    try {
      // broadcast runs only where its layout conditions hold (at the bucket's shape: NN)
      const variants = MATMUL_VARIANTS.filter((v) => BROADCAST_ROWS[v] === undefined || broadcastSpec(full, false, false, BROADCAST_ROWS[v])).map((v) => ({
        name: v,
        async run() {
          const c = empty([rep.M, rep.N]);
          launchMatmul(v, a, b, c, full, false, false);
          await sync();
          c.dispose();
        },
      }));
      const fb = variants.some((v) => v.name === fallback) ? fallback : 'register';
      out.set(bucket, (await autotune({ op: 'matmul', bucket }, variants, { fallback: fb, ...opts })) as MatmulVariant);
    } finally {
      a.dispose();
      b.dispose();
    }
  }
  return out;
}

// Generated kernel sources are large; build each specialisation once.
const kernels = new Map<string, Kernel>();
function cached(key: string, make: () => Kernel): Kernel {
  let k = kernels.get(key);
  if (!k) kernels.set(key, (k = make()));
  return k;
}

function launchMatmul(v: MatmulVariant, a: Tensor, b: Tensor, out: Tensor, d: Dims, tA: boolean, tB: boolean): void {
  const params = [d.M, d.N, d.K, d.sA, d.sB, d.M * d.N];
  const R = BROADCAST_ROWS[v];
  const bs = R !== undefined ? broadcastSpec(d, tA, tB, R) : null;
  if (R !== undefined && !bs) v = 'register';
  if (bs) {
    const tilesN = Math.ceil(d.N / broadcastCols(bs));
    const grid: [number, number, number] = [Math.ceil(d.M / bs.R) * tilesN, 1, d.batch];
    const k = cached(`b${bs.aRows}${bs.bRows}${bs.R}x${bs.TN}${bs.adj}${bs.vecC}s${bs.SG}`, () => matmulBroadcast(bs));
    launch(k, [a, b, out], grid, [...params, tilesN], 'matmul');
  } else if (v === 'register') {
    // vec4 loads need the operand's contiguous dimension to be a multiple of 4
    const vecA = (tA ? d.M : d.K) % 4 === 0;
    const vecB = (tB ? d.K : d.N) % 4 === 0;
    const grid: [number, number, number] = [Math.ceil(d.N / (REG_TN * REG_WG[0])), Math.ceil(d.M / (REG_TM * REG_WG[1])), d.batch];
    const spec = { transA: tA, transB: tB, vecA, vecB };
    launch(cached(`r${tA}${tB}${vecA}${vecB}`, () => matmulRegister(spec)), [a, b, out], grid, params, 'matmul');
  } else if (v === 'tiled') {
    launch(cached(`t${tA}${tB}`, () => matmulTiled(tA, tB)), [a, b, out], [Math.ceil(d.N / TILE), Math.ceil(d.M / TILE), d.batch], params, 'matmul');
  } else {
    const grid: [number, number, number] = [
      Math.ceil(d.N / (GENERIC_TN * GENERIC_WG[0])),
      Math.ceil(d.M / (GENERIC_TM * GENERIC_WG[1])),
      d.batch,
    ];
    launch(matmulGeneric(tA, tB), [a, b, out], grid, [...params, 0, 0], 'matmul');
  }
}

/**
 * C = op(A)·op(B) + s2 · [keep ⊙] op(A2)·op(B2) in one subgroup-broadcast kernel (2-D operands; the
 * second product's inner size K2 % 4 = 0; keep = the dropout mask of output element m·N + n from
 * (seed, thr) when thr > 0), or null where that kernel is not the one this product runs or its
 * layout conditions fail: the caller then runs its own kernels. Used by the LoRA linear.
 */
export function matmulPlusRaw(
  a: Tensor,
  b: Tensor,
  tA: boolean,
  tB: boolean,
  a2: Tensor,
  b2: Tensor,
  tA2: boolean,
  tB2: boolean,
  o: { s2: number; seed: number; thr: number },
  op: string,
): Tensor | null {
  if (a.backend !== 'gpu' || a.rank !== 2 || b.rank !== 2 || a2.rank !== 2 || b2.rank !== 2) return null;
  const d = dims(a, b, tA, tB);
  const d2 = dims(a2, b2, tA2, tB2);
  if (d2.M !== d.M || d2.N !== d.N) throw new Error(`${op}: the two products differ in shape: [${d.M}, ${d.N}] vs [${d2.M}, ${d2.N}]`);
  const R = BROADCAST_ROWS[matmulVariantFor(d)];
  if (d.M === 0 || d.N === 0 || d.K === 0 || R === undefined) return null;
  const bs = broadcastSpec(d, tA, tB, R);
  if (!bs || d2.K % 4 !== 0 || (tA2 && d.M % 4 !== 0) || (!tB2 && d.N % 4 !== 0)) return null;
  const spec: BroadcastSpec = { ...bs, second: { aRows: !tA2, bRows: tB2, drop: o.thr > 0 } };
  const out = empty([d.M, d.N], 'f32', 'gpu');
  const tilesN = Math.ceil(d.N / broadcastCols(spec));
  const k = cached(`p${spec.R}${spec.aRows}${spec.bRows}${spec.second!.aRows}${spec.second!.bRows}${spec.second!.drop}${spec.vecC}s${spec.SG}`, () => matmulBroadcast(spec));
  launch(k, [a, b, a2, b2, out], [Math.ceil(d.M / spec.R) * tilesN, 1, 1], [d.M, d.N, d.K, 0, 0, 0, tilesN, d2.K, o.seed >>> 0, o.thr, { f: o.s2 }], op);
  return out;
}

/** The raw kernel (no autograd). */
export function matmulRaw(a: Tensor, b: Tensor, tA = false, tB = false): Tensor {
  const d = dims(a, b, tA, tB);
  const backend = assertSameBackend('matmul', a, b);
  const out = empty([...d.batchShape, d.M, d.N], 'f32', backend);
  if (out.size === 0) return out;
  if (backend === 'cpu') {
    (out.cpu as Float64Array).set(matmulRef(a.cpu!, b.cpu!, d.batch, d.M, d.N, d.K, tA, tB, d.sA, d.sB));
    return out;
  }
  if (d.K === 0) throw new Error('matmul: K = 0 is not supported on the GPU');
  launchMatmul(matmulVariantFor(d), a, b, out, d, tA, tB);
  return out;
}

export function matmul(a: Tensor, b: Tensor, opts: MatmulOpts = {}): Tensor {
  const tA = opts.transA ?? false;
  const tB = opts.transB ?? false;
  assertLive('matmul', a, b);
  assertDtype('matmul', a, 'f32');
  assertDtype('matmul', b, 'f32');
  if (b.rank === 2 && !tA && a.rank > 2) return matmulFlat(a, b, tB);
  const y = matmulRaw(a, b, tA, tB);
  return record(y, 'matmul', [a, b], (g) => {
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (a.requiresGrad) {
      // op(A) = G·op(B)ᵀ; if A is stored transposed, A = (G·op(B)ᵀ)ᵀ = op(B)·Gᵀ
      ga = tA ? matmulRaw(b, g, tB, true) : matmulRaw(g, b, false, !tB);
      if (ga.rank > a.rank) ga = reduceBatch(ga, a.shape);
    }
    if (b.requiresGrad) {
      // op(B) = op(A)ᵀ·G; if B is stored transposed, B = Gᵀ·op(A)
      gb = tB ? matmulRaw(g, a, true, tA) : matmulRaw(a, g, !tA, false);
      if (gb.rank > b.rank) gb = reduceBatch(gb, b.shape);
    }
    return [ga, gb];
  });
}

/**
 * [..., M, K] · op(W) with a shared 2-D right operand is one [(…·M), K] matmul: one launch instead of
 * a batch, and the weight gradient is a single product over all rows instead of per-batch products
 * summed afterwards.
 */
function matmulFlat(a: Tensor, w: Tensor, tB: boolean): Tensor {
  const K = a.shape[a.rank - 1]!;
  const rows = a.size / Math.max(1, K);
  const a2 = view(a, [rows, K]);
  const y2 = matmulRaw(a2, w, false, tB);
  a2.dispose();
  const N = y2.shape[1]!;
  const y = view(y2, [...a.shape.slice(0, -1), N]);
  y2.dispose();
  return record(y, 'matmul', [a, w], (g) => {
    const g2 = view(g, [rows, N]);
    let ga: Tensor | null = null;
    let gw: Tensor | null = null;
    if (a.requiresGrad) {
      const t = matmulRaw(g2, w, false, !tB);
      ga = view(t, a.shape);
      t.dispose();
    }
    if (w.requiresGrad) {
      const a2b = view(a, [rows, K]);
      gw = tB ? matmulRaw(g2, a2b, true, false) : matmulRaw(a2b, g2, true, false);
      a2b.dispose();
    }
    g2.dispose();
    return [ga, gw];
  });
}

function reduceBatch(g: Tensor, shape: readonly number[]): Tensor {
  const r = sumTo(g, shape);
  if (r !== g) g.dispose();
  return r;
}
