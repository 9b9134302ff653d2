// matmul: 2-D or batched, either operand transposed; a 2-D right operand is shared by every batch.
//   C = op(A)·op(B),  dA = dC·op(B)ᵀ (transposed back if A was),  dB = op(A)ᵀ·dC (likewise).
// Operands are both f32 or both f16; f16 products accumulate in f32 and give an f16 (default) or f32
// output, and their gradients are f16 like the operands.
import { record } from '../autograd.ts';
import { autotune, autotuneEnabled, tunedChoice, type TuneOpts } from '../autotune.ts';
import { rand } from '../create.ts';
import { gpuSync, type DeviceInfo } from '../device.ts';
import { launch, sync, type Kernel } from '../runtime.ts';
import { assertDtype, assertLive, assertSameBackend, empty, numel, Tensor, type DType } from '../tensor.ts';
import { view } from '../tensor.ts';
import { broadcastCols, matmulBroadcast, type BroadcastSpec } from '../../kernels/matmul/broadcast.ts';
import { matmulGeneric, GENERIC_TM, GENERIC_TN, GENERIC_WG } from '../../kernels/matmul/generic.ts';
import { matmulRegister, REG_TM, REG_TN, REG_WG } from '../../kernels/matmul/register.ts';
import { matmulTiled, TILE } from '../../kernels/matmul/tiled.ts';
import { matmulSubgroupMatrix, sgmTileDims, sgmWorkgroupBytes, type SgmTile } from '../../kernels/matmul/subgroup-matrix.ts';
import type { SubgroupMatrixSyntax } from '../../kernels/matmul/subgroup-matrix-syntax.ts';
import { engineSwitch } from '../switches.ts';
import { matmulRef } from '../reference/matmul.ts';
import { sumTo } from './elementwise.ts';
import { toF16, toF32 } from './cast.ts';
import { toF16Ref } from '../reference/cast.ts';

export interface MatmulOpts {
  transA?: boolean;
  transB?: boolean;
  /** Output dtype of a product of f16 operands (default f16); f32 operands give f32. */
  out?: 'f16' | 'f32';
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
/** Products of f16 operands: 'f16' reads them as f16 (shader-f16) in the register tile; 'widen'
 * casts them to f32 and runs the f32 product's variant, then casts an f16 output back; 'sgmat…'
 * multiply on the GPU's matrix units (kernels/matmul/subgroup-matrix.ts) with the named C tile
 * (sgmat128s8: 8 subgroups instead of 4). All accumulate in f32. */
export type MatmulF16Variant =
  | 'f16'
  | 'widen'
  | 'sgmat64'
  | 'sgmat64p'
  | 'sgmat64d'
  | 'sgmat128'
  | 'sgmat128s8'
  | 'sgmat128k64'
  | 'sgmat128p'
  | 'sgmat128d'
  | 'sgmat64db'
  | 'sgmat128db'
  | 'sgmat64b'
  | 'sgmat128b';
export const MATMUL_F16_VARIANTS: readonly MatmulF16Variant[] = [
  'f16',
  'widen',
  'sgmat64',
  'sgmat64p',
  'sgmat64d',
  'sgmat128',
  'sgmat128s8',
  'sgmat128k64',
  'sgmat128p',
  'sgmat128d',
  'sgmat64db',
  'sgmat128db',
  'sgmat64b',
  'sgmat128b',
];

interface SgmVariant {
  tile: Omit<SgmTile, 'bk'>;
  /** K per staged step in units of 32 (default 1) */
  bk32?: number;
  /** loads straight from the operands (kernels/matmul/subgroup-matrix.ts `direct`) */
  direct?: boolean;
  /** next step's tiles fetched into registers during this step's multiplies */
  prefetch?: boolean;
  /** two staged tile buffers, one barrier per step (kernels/matmul/subgroup-matrix.ts `double`) */
  double?: boolean;
  /** the subgroup's index from the subgroup_id builtin, where the probe found the local-index spelling */
  builtinIndex?: boolean;
}
/** Subgroups (sm × sn), result matrices per subgroup (fm × fn) and staging of each subgroup-matrix
 * variant: 'k64' stages 64 of K per barrier pair instead of 32; 'p' prefetches the next tiles into
 * registers; 'd' loads from the operands directly; 'db' double-buffers the staged tiles; 'b' takes
 * the subgroup's index from the subgroup_id builtin. */
const SGM_VARIANTS: Partial<Record<MatmulF16Variant, SgmVariant>> = {
  sgmat64: { tile: { sm: 2, sn: 2, fm: 2, fn: 2 } },
  sgmat64p: { tile: { sm: 2, sn: 2, fm: 2, fn: 2 }, prefetch: true },
  sgmat64d: { tile: { sm: 2, sn: 2, fm: 2, fn: 2 }, direct: true },
  sgmat128: { tile: { sm: 2, sn: 2, fm: 4, fn: 4 } },
  sgmat128s8: { tile: { sm: 4, sn: 2, fm: 2, fn: 4 } },
  sgmat128k64: { tile: { sm: 2, sn: 2, fm: 4, fn: 4 }, bk32: 2 },
  sgmat128p: { tile: { sm: 2, sn: 2, fm: 4, fn: 4 }, prefetch: true },
  sgmat128d: { tile: { sm: 2, sn: 2, fm: 4, fn: 4 }, direct: true },
  sgmat64db: { tile: { sm: 2, sn: 2, fm: 2, fn: 2 }, double: true },
  sgmat128db: { tile: { sm: 2, sn: 2, fm: 4, fn: 4 }, double: true },
  sgmat64b: { tile: { sm: 2, sn: 2, fm: 2, fn: 2 }, builtinIndex: true },
  sgmat128b: { tile: { sm: 2, sn: 2, fm: 4, fn: 4 }, builtinIndex: true },
};

/** The tile of a subgroup-matrix variant on this adapter, or null where it cannot run: no
 * subgroup-matrix feature, no f16 → f32 configuration or working syntax (engine/subgroup-matrix.ts),
 * no fixed subgroup size, or a workgroup that is not a multiple of the largest subgroup size. */
function sgmTileFor(info: DeviceInfo, v: MatmulF16Variant): (SgmTile & { direct: boolean; prefetch: boolean; double: boolean; syntax: SubgroupMatrixSyntax }) | null {
  const sv = SGM_VARIANTS[v];
  const x = info.subgroupMatrix;
  if (!sv || !x || !x.syntax || !x.f16 || info.subgroupSize === null) return null;
  const t = sv.tile;
  if ((t.sm * t.sn * info.subgroupSize) % x.subgroupMaxSize !== 0) return null;
  // the builtin-index variants exist only where they differ from the plain ones and the probe ran them
  if (sv.builtinIndex && (x.syntax.index === 'builtin' || !x.builtinIndex)) return null;
  const bk = sv.direct ? x.f16.K : Math.ceil((32 * (sv.bk32 ?? 1)) / x.f16.K) * x.f16.K;
  const tile = { ...t, bk, direct: sv.direct ?? false, prefetch: sv.prefetch ?? false, double: sv.double ?? false };
  const limit = info.limits.maxComputeWorkgroupStorageSize ?? 16384;
  if (sgmWorkgroupBytes({ cfg: x.f16, tile, direct: tile.direct, double: tile.double }) > limit) return null;
  return { ...tile, syntax: sv.builtinIndex ? { ...x.syntax, index: 'builtin' } : x.syntax };
}

/** The f16 variants this adapter can run (less those CSRM_MATMUL_F16_OFF names; 'widen' always stays). */
export function matmulF16Variants(info: DeviceInfo): MatmulF16Variant[] {
  const off = new Set((engineSwitch('CSRM_MATMUL_F16_OFF') ?? '').split(',').map((x) => x.trim()));
  return MATMUL_F16_VARIANTS.filter(
    (v) => v === 'widen' || (!off.has(v) && (v === 'f16' ? info.features.includes('shader-f16') : sgmTileFor(info, v) !== null)),
  );
}

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

/** The f16 product's variant before tuning: the matrix units where the adapter has them (the larger
 * tile for large outputs), else the f16 register kernel wherever the adapter has shader-f16. */
export function chooseMatmulF16Variant(info: DeviceInfo, d?: MatmulDims): MatmulF16Variant {
  const big = d === undefined || d.batch * d.M * d.N >= 1024 * 1024;
  if (sgmTileFor(info, big ? 'sgmat128' : 'sgmat64')) return big ? 'sgmat128' : 'sgmat64';
  return info.features.includes('shader-f16') ? 'f16' : 'widen';
}

let override: MatmulVariant | null = null;
let overrideF16: MatmulF16Variant | null = null;
/**
 * Forces one variant for every GPU matmul (benchmarks, tests); null restores the tuned/fixed choice.
 * An f32 variant also runs widened f16 products; an f16 variant ('f16', 'widen') applies to f16
 * products only.
 */
export function setMatmulVariant(name: MatmulVariant | MatmulF16Variant | null): void {
  if (name !== null && !MATMUL_VARIANTS.includes(name as MatmulVariant) && !MATMUL_F16_VARIANTS.includes(name as MatmulF16Variant)) {
    throw new Error(`setMatmulVariant: unknown variant "${name}" (one of ${[...MATMUL_VARIANTS, ...MATMUL_F16_VARIANTS].join(', ')})`);
  }
  const f16 = MATMUL_F16_VARIANTS.includes(name as MatmulF16Variant);
  override = name === null || f16 ? null : (name as MatmulVariant);
  overrideF16 = name === null ? null : f16 ? (name as MatmulF16Variant) : 'widen';
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

/** The autotune bucket of an f16 product (its own: the f16 variants compete there). */
export function matmulF16Bucket(d: MatmulDims): string {
  return `f16,${matmulBucket(d)}`;
}

/** The variant an f16 product runs: the override, else the tuned choice, else the fixed rule. */
export function matmulF16VariantFor(d: MatmulDims): MatmulF16Variant {
  const info = gpuSync().info;
  const v = overrideF16 ?? (tunedChoice('matmul', matmulF16Bucket(d)) as MatmulF16Variant | undefined);
  if (v !== undefined && MATMUL_F16_VARIANTS.includes(v) && !matmulF16Variants(info).includes(v)) {
    if (overrideF16) {
      const why = v === 'f16' ? 'the adapter feature shader-f16' : `subgroup matrices (${info.subgroupMatrix?.problem ?? 'feature chromium-experimental-subgroup-matrix absent'})`;
      throw new Error(`matmul: the ${v} variant needs ${why}, which ${info.adapter} lacks`);
    }
    return chooseMatmulF16Variant(info, d); // a cache from another device setup
  }
  return v !== undefined && MATMUL_F16_VARIANTS.includes(v) ? v : chooseMatmulF16Variant(info, d);
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

/**
 * tuneMatmul for products of f16 operands (f16 output): measures the f16 kernel against widening
 * to f32 per bucket, on this adapter, and caches the choice. Without shader-f16 only 'widen' runs.
 */
export async function tuneMatmulF16(list: readonly MatmulDims[], opts: TuneOpts = {}): Promise<Map<string, MatmulF16Variant>> {
  const out = new Map<string, MatmulF16Variant>();
  const info = gpuSync().info;
  for (const d of list) {
    const bucket = matmulF16Bucket(d);
    if (out.has(bucket)) continue;
    const fallback = chooseMatmulF16Variant(info, d);
    if (!autotuneEnabled()) {
      out.set(bucket, fallback);
      continue;
    }
    const rep = matmulBucketShape(matmulBucket(d));
    const a32 = rand([rep.M, rep.K], { seed: 11, lo: 0.1, hi: 1 });
    const b32 = rand([rep.K, rep.N], { seed: 12, lo: 0.1, hi: 1 });
    const [a, b] = [toF16(a32), toF16(b32)];
    const full: Dims = { batchShape: [], batch: 1, M: rep.M, N: rep.N, K: rep.K, sA: 0, sB: 0 };
    try {
      const variants = matmulF16Variants(info).map((v) => ({
        name: v,
        async run() {
          const c = matmulF16Gpu(v, a, b, full, false, false, 'f16', [rep.M, rep.N]);
          await sync();
          c.dispose();
        },
      }));
      out.set(bucket, (await autotune({ op: 'matmul', bucket }, variants, { fallback, ...opts })) as MatmulF16Variant);
    } finally {
      for (const t of [a32, b32, a, b]) t.dispose();
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

/** An f16 product (output f16 or f32, of `shape`) on the GPU with the chosen variant. */
function matmulF16Gpu(v: MatmulF16Variant, a: Tensor, b: Tensor, d: Dims, tA: boolean, tB: boolean, o: 'f16' | 'f32', shape: number[]): Tensor {
  if (v === 'widen') {
    const [wa, wb] = [toF32(a), toF32(b)];
    const c = empty(shape, 'f32');
    launchMatmul(matmulVariantFor(d), wa, wb, c, d, tA, tB);
    wa.dispose();
    wb.dispose();
    if (o === 'f32') return c;
    const h = toF16(c);
    c.dispose();
    return h;
  }
  const out = empty(shape, o);
  const vecA = (tA ? d.M : d.K) % 4 === 0;
  const vecB = (tB ? d.K : d.N) % 4 === 0;
  const info = gpuSync().info;
  let tile = sgmTileFor(info, v);
  if (tile?.direct) {
    // direct loads never cross an edge: other shapes stage their tiles
    const { BM, BN } = sgmTileDims({ cfg: info.subgroupMatrix!.f16!, tile });
    if (d.M % BM !== 0 || d.N % BN !== 0 || d.K % tile.bk !== 0) tile = sgmTileFor(info, BM === 64 ? 'sgmat64' : 'sgmat128');
  }
  if (tile) {
    const x = info.subgroupMatrix!;
    const spec = { transA: tA, transB: tB, vecA, vecB, out: o, cfg: x.f16!, sg: info.subgroupSize!, tile, syntax: tile.syntax, direct: tile.direct, prefetch: tile.prefetch, double: tile.double };
    const { BM, BN } = sgmTileDims(spec);
    const k = cached(`s${tile.sm}${tile.sn}${tile.fm}${tile.fn}${tile.bk}${tile.direct}${tile.prefetch}${tile.double}${tile.syntax.index}${tA}${tB}${vecA}${vecB}${o}`, () => matmulSubgroupMatrix(spec));
    launch(k, [a, b, out], [Math.ceil(d.N / BN), Math.ceil(d.M / BM), d.batch], [d.M, d.N, d.K, d.sA, d.sB, d.M * d.N], 'matmul');
    return out;
  }
  const grid: [number, number, number] = [Math.ceil(d.N / (REG_TN * REG_WG[0])), Math.ceil(d.M / (REG_TM * REG_WG[1])), d.batch];
  const k = cached(`h${tA}${tB}${vecA}${vecB}${o}`, () => matmulRegister({ transA: tA, transB: tB, vecA, vecB, half: { out: o } }));
  launch(k, [a, b, out], grid, [d.M, d.N, d.K, d.sA, d.sB, d.M * d.N], 'matmul');
  return out;
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

/** The subgroup-broadcast kernel's configuration where it is the one this product runs, else null. */
function broadcastRun(d: Dims, tA: boolean, tB: boolean): BroadcastSpec | null {
  const R = BROADCAST_ROWS[matmulVariantFor(d)];
  if (d.M === 0 || d.N === 0 || d.K === 0 || R === undefined) return null;
  return broadcastSpec(d, tA, tB, R);
}

/**
 * into += op(A)·op(B) (2-D f32 operands, into [M, N] f32 and its storage not shared) with the
 * kernel the plain product would run, its writes turned into c + acc: the bits of the product
 * followed by add(into, product), without the product's buffer and the add's dispatch. False where
 * that kernel is not a subgroup-broadcast one or its layout conditions fail; the caller then adds.
 */
export function matmulAccumulateRaw(a: Tensor, b: Tensor, tA: boolean, tB: boolean, into: Tensor): boolean {
  if (a.backend !== 'gpu' || a.dtype !== 'f32' || b.dtype !== 'f32' || into.dtype !== 'f32' || a.rank !== 2 || b.rank !== 2) return false;
  if (!into.gpu || into.gpu.refs !== 1) return false;
  const d = dims(a, b, tA, tB);
  if (into.size !== d.M * d.N) return false;
  const bs = broadcastRun(d, tA, tB);
  if (!bs) return false;
  const spec: BroadcastSpec = { ...bs, accumulate: true };
  const tilesN = Math.ceil(d.N / broadcastCols(spec));
  const k = cached(`a${spec.aRows}${spec.bRows}${spec.R}x${spec.TN}${spec.adj}${spec.vecC}s${spec.SG}`, () => matmulBroadcast(spec));
  launch(k, [a, b, into], [Math.ceil(d.M / spec.R) * tilesN, 1, d.batch], [d.M, d.N, d.K, d.sA, d.sB, d.M * d.N, tilesN], 'matmul');
  return true;
}

/**
 * D + op(A)·op(B) (2-D f32 operands, D f32 of the product's size) with the kernel the plain product
 * would run, D added in its writes: the bits of add(D, product) in one dispatch. Null where that
 * kernel is not a subgroup-broadcast one or its layout conditions fail; the caller then adds.
 */
export function matmulAddRaw(a: Tensor, b: Tensor, tA: boolean, tB: boolean, addend: Tensor): Tensor | null {
  if (a.backend !== 'gpu' || a.dtype !== 'f32' || b.dtype !== 'f32' || addend.dtype !== 'f32' || addend.backend !== 'gpu' || a.rank !== 2 || b.rank !== 2) return null;
  const d = dims(a, b, tA, tB);
  if (addend.size !== d.M * d.N) return null;
  const bs = broadcastRun(d, tA, tB);
  if (!bs) return null;
  const spec: BroadcastSpec = { ...bs, addend: true };
  const tilesN = Math.ceil(d.N / broadcastCols(spec));
  const out = empty([d.M, d.N], 'f32', 'gpu');
  const k = cached(`d${spec.aRows}${spec.bRows}${spec.R}x${spec.TN}${spec.adj}${spec.vecC}s${spec.SG}`, () => matmulBroadcast(spec));
  launch(k, [a, b, out, addend], [Math.ceil(d.M / spec.R) * tilesN, 1, d.batch], [d.M, d.N, d.K, d.sA, d.sB, d.M * d.N, tilesN], 'matmul');
  return out;
}

/**
 * up = x·Wᵀ (x [M, K], W [N, K], f32) and y = silu(gate) ⊙ up (gate [M, N] f32) in one subgroup-broadcast
 * kernel, with the swiglu kernel's expression in its writes (the same bits as the product, then
 * swiglu). Null where that kernel is not the one this product runs, its layout conditions fail or
 * N % 4 ≠ 0; the caller then runs the two.
 */
export function matmulSwigluRaw(x: Tensor, w: Tensor, gate: Tensor): { up: Tensor; y: Tensor } | null {
  if (x.backend !== 'gpu' || x.dtype !== 'f32' || w.dtype !== 'f32' || gate.dtype !== 'f32' || gate.backend !== 'gpu' || x.rank !== 2 || w.rank !== 2) return null;
  const d = dims(x, w, false, true);
  if (gate.size !== d.M * d.N || d.N % 4 !== 0) return null;
  const bs = broadcastRun(d, false, true);
  if (!bs || !bs.vecC) return null;
  const spec: BroadcastSpec = { ...bs, swiglu: true };
  const tilesN = Math.ceil(d.N / broadcastCols(spec));
  const up = empty([d.M, d.N], 'f32', 'gpu');
  const y = empty([d.M, d.N], 'f32', 'gpu');
  const k = cached(`w${spec.R}x${spec.TN}s${spec.SG}`, () => matmulBroadcast(spec));
  launch(k, [x, w, up, gate, y], [Math.ceil(d.M / spec.R) * tilesN, 1, 1], [d.M, d.N, d.K, 0, 0, 0, tilesN], 'matmul');
  return { up, y };
}

/**
 * The LM head's forward x·Wᵀ (x [M, K], W [N, K], f32) with the log-sum-exp epilogue of the
 * subgroup-broadcast kernel: besides C [M, N] it returns part [M, tilesN] of per-row, per-column-tile
 * (max, Σ exp(c − max)) pairs (kernels/matmul/broadcast.ts). Null where the broadcast kernel is not
 * the one this product runs or its layout conditions fail; the caller then runs the plain product.
 */
export function matmulLseRaw(x: Tensor, w: Tensor): { c: Tensor; part: Tensor; tilesN: number } | null {
  if (x.backend !== 'gpu' || x.dtype !== 'f32' || w.dtype !== 'f32' || x.rank !== 2 || w.rank !== 2) return null;
  const d = dims(x, w, false, true);
  const bs = broadcastRun(d, false, true);
  if (!bs) return null;
  const spec: BroadcastSpec = { ...bs, lse: true };
  const tilesN = Math.ceil(d.N / broadcastCols(spec));
  const c = empty([d.M, d.N], 'f32', 'gpu');
  const part = empty([d.M, tilesN, 2], 'f32', 'gpu');
  const k = cached(`l${spec.R}x${spec.TN}${spec.vecC}s${spec.SG}`, () => matmulBroadcast(spec));
  launch(k, [x, w, c, part], [Math.ceil(d.M / spec.R) * tilesN, 1, 1], [d.M, d.N, d.K, 0, 0, 0, tilesN], 'matmul');
  return { c, part, tilesN };
}

/**
 * U·op(B) where U is the softmax gradient of the logits z [M, K] (kernels/matmul/broadcast.ts
 * `lmGrad`: U is computed as z is loaded, from the row info [M, 4] and the scalars g, norm), so U is
 * never written. Null where the subgroup-broadcast kernel is not the one this product runs or its
 * layout conditions fail; the caller then materialises U and runs the plain product.
 */
export function matmulLmGradRaw(z: Tensor, b: Tensor, tB: boolean, info: Tensor, g: Tensor, norm: Tensor): Tensor | null {
  if (z.backend !== 'gpu' || z.dtype !== 'f32' || b.dtype !== 'f32' || z.rank !== 2 || b.rank !== 2) return null;
  const d = dims(z, b, false, tB);
  const bs = broadcastRun(d, false, tB);
  if (!bs) return null;
  const spec: BroadcastSpec = { ...bs, lmGrad: true };
  const tilesN = Math.ceil(d.N / broadcastCols(spec));
  const out = empty([d.M, d.N], 'f32', 'gpu');
  const k = cached(`g${spec.bRows}${spec.R}x${spec.TN}${spec.vecC}s${spec.SG}`, () => matmulBroadcast(spec));
  launch(k, [z, b, out, info, g, norm], [Math.ceil(d.M / spec.R) * tilesN, 1, 1], [d.M, d.N, d.K, 0, 0, 0, tilesN], 'matmul');
  return out;
}

/** Whether the f16 product of operands shaped as a and b (either dtype) runs on widened operands
 * (variant 'widen') here: then f32 operands holding f16 values give its bits without the f16 copies. */
export function matmulF16Widens(a: Tensor, b: Tensor, tA: boolean, tB: boolean): boolean {
  return a.backend === 'gpu' && matmulF16VariantFor(dims(a, b, tA, tB)) === 'widen';
}

/** The raw kernel (no autograd). `outDtype` matters for f16 operands only (default f16). */
export function matmulRaw(a: Tensor, b: Tensor, tA = false, tB = false, outDtype?: DType): Tensor {
  const d = dims(a, b, tA, tB);
  const backend = assertSameBackend('matmul', a, b);
  const half = a.dtype === 'f16';
  const shape = [...d.batchShape, d.M, d.N];
  const dtype = half ? (outDtype ?? 'f16') : 'f32';
  if (half && backend === 'gpu' && numel(shape) > 0) {
    if (d.K === 0) throw new Error('matmul: K = 0 is not supported on the GPU');
    return matmulF16Gpu(matmulF16VariantFor(d), a, b, d, tA, tB, dtype as 'f16' | 'f32', shape);
  }
  const out = empty(shape, dtype, backend);
  if (out.size === 0) return out;
  if (backend === 'cpu') {
    const c = matmulRef(a.cpu!, b.cpu!, d.batch, d.M, d.N, d.K, tA, tB, d.sA, d.sB);
    (out.cpu as Float64Array).set(out.dtype === 'f16' ? toF16Ref(c) : c);
    return out;
  }
  if (d.K === 0) throw new Error('matmul: K = 0 is not supported on the GPU');
  launchMatmul(matmulVariantFor(d), a, b, out, d, tA, tB);
  return out;
}

/** Operands must be both f32 or both f16 (a mixed product has no kernel and no single meaning). */
function checkDtypes(a: Tensor, b: Tensor, out: MatmulOpts['out']): void {
  assertDtype('matmul', a, 'f32', 'f16');
  assertDtype('matmul', b, 'f32', 'f16');
  if (a.dtype !== b.dtype) throw new Error(`matmul: operands ${a} and ${b} differ in dtype; cast one with toF16 or toF32`);
  if (out !== undefined && out !== 'f16' && out !== 'f32') throw new Error(`matmul: out "${out}" is not f16 or f32`);
  if (out === 'f16' && a.dtype === 'f32') throw new Error(`matmul: out f16 needs f16 operands (got ${a}); cast them with toF16`);
}

/** The output gradient in the operands' dtype (an f32-output f16 product's is rounded to f16). */
function gradIn(g: Tensor, dtype: DType): Tensor {
  return g.dtype === dtype ? g : toF16(g);
}

export function matmul(a: Tensor, b: Tensor, opts: MatmulOpts = {}): Tensor {
  const tA = opts.transA ?? false;
  const tB = opts.transB ?? false;
  assertLive('matmul', a, b);
  checkDtypes(a, b, opts.out);
  if (b.rank === 2 && !tA && a.rank > 2) return matmulFlat(a, b, tB, opts.out);
  const y = matmulRaw(a, b, tA, tB, opts.out);
  return record(y, 'matmul', [a, b], (g0, into) => {
    const g = gradIn(g0, a.dtype);
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (a.requiresGrad) {
      // op(A) = G·op(B)ᵀ; if A is stored transposed, A = (G·op(B)ᵀ)ᵀ = op(B)·Gᵀ
      // (a second gradient of a 2-D A is summed into the first by the product's own writes)
      const acc = a.rank === 2 && b.rank === 2 ? (into?.[0] ?? null) : null;
      if (acc && (tA ? matmulAccumulateRaw(b, g, tB, true, acc) : matmulAccumulateRaw(g, b, false, !tB, acc))) ga = acc;
      else {
        ga = tA ? matmulRaw(b, g, tB, true) : matmulRaw(g, b, false, !tB);
        if (ga.rank > a.rank) ga = reduceBatch(ga, a.shape);
      }
    }
    if (b.requiresGrad) {
      // op(B) = op(A)ᵀ·G; if B is stored transposed, B = Gᵀ·op(A)
      // (a second gradient of a 2-D B — a weight two sub-batches use — is summed into the first likewise)
      const acc = a.rank === 2 && b.rank === 2 ? (into?.[1] ?? null) : null;
      if (acc && (tB ? matmulAccumulateRaw(g, a, true, tA, acc) : matmulAccumulateRaw(a, g, !tA, false, acc))) gb = acc;
      else {
        gb = tB ? matmulRaw(g, a, true, tA) : matmulRaw(a, g, !tA, false);
        if (gb.rank > b.rank) gb = reduceBatch(gb, b.shape);
      }
    }
    if (g !== g0) g.dispose();
    return [ga, gb];
  });
}

/**
 * [..., M, K] · op(W) with a shared 2-D right operand is one [(…·M), K] matmul: one launch instead of
 * a batch, and the weight gradient is a single product over all rows instead of per-batch products
 * summed afterwards.
 */
function matmulFlat(a: Tensor, w: Tensor, tB: boolean, out: MatmulOpts['out']): Tensor {
  const K = a.shape[a.rank - 1]!;
  const rows = a.size / Math.max(1, K);
  const a2 = view(a, [rows, K]);
  const y2 = matmulRaw(a2, w, false, tB, out);
  a2.dispose();
  const N = y2.shape[1]!;
  const y = view(y2, [...a.shape.slice(0, -1), N]);
  y2.dispose();
  return record(y, 'matmul', [a, w], (g0, into) => {
    const g = gradIn(g0, a.dtype);
    const g2 = view(g, [rows, N]);
    let ga: Tensor | null = null;
    let gw: Tensor | null = null;
    if (a.requiresGrad) {
      // a second gradient of A is summed into the first by the product's own writes (autograd's `into`)
      const acc = into?.[0] ?? null;
      if (acc && matmulAccumulateRaw(g2, w, false, !tB, acc)) ga = acc;
      else {
        const t = matmulRaw(g2, w, false, !tB);
        ga = view(t, a.shape);
        t.dispose();
      }
    }
    if (w.requiresGrad) {
      const a2b = view(a, [rows, K]);
      // a second gradient of W (a weight two sub-batches use) is summed into the first by the product's writes
      const acc = into?.[1] ?? null;
      if (acc && (tB ? matmulAccumulateRaw(g2, a2b, true, false, acc) : matmulAccumulateRaw(a2b, g2, true, false, acc))) gw = acc;
      else gw = tB ? matmulRaw(g2, a2b, true, false) : matmulRaw(a2b, g2, true, false);
      a2b.dispose();
    }
    g2.dispose();
    if (g !== g0) g.dispose();
    return [ga, gw];
  });
}

function reduceBatch(g: Tensor, shape: readonly number[]): Tensor {
  const r = sumTo(g, shape);
  if (r !== g) g.dispose();
  return r;
}
