// Fused causal/padded multi-head (and grouped-query) attention. The forward never materialises the
// T×S score matrix: kernels/attention/forward-rows.ts streams keys with an online softmax and saves
// the log-sum-exp; the backward recomputes P from Q, K and the LSE (kernels/attention/backward-rows.ts).
// Four kernel variants compute the same thing: 'rows' (one query or key row per invocation, every
// invocation loading what it reads), 'subgroup' (rows a subgroup shares loaded once per subgroup:
// CPU adapters), 'subgroup-ds' (its forward; a backward that writes dS in the dK/dV pass and reads it
// for dQ, kernels/attention/backward-scores.ts, while that buffer stays under ATTN_SCORES_MAX_BYTES)
// and 'flash' (tiles of keys or queries staged in workgroup memory once per workgroup: hardware
// GPUs); see attentionVariantFor for the choice.
// On the cpu backend both directions are the float64 naive reference (engine/reference/attention.ts),
// which is what gradcheck and gpucheck compare against.
import { record } from '../autograd.ts';
import { launch, sync } from '../runtime.ts';
import { assertDtype, assertLive, assertSameBackend, empty, Tensor } from '../tensor.ts';
import { attentionForwardRows } from '../../kernels/attention/forward-rows.ts';
import { attentionForwardSubgroup } from '../../kernels/attention/forward-subgroup.ts';
import { forcedKernelFamily, subgroupKernelSize, subgroupKernelsUsable } from '../kernel-family.ts';
import { attentionForwardFlash, flashQueryShape } from '../../kernels/attention/forward-flash.ts';
import { attentionBackwardDkvFlash, attentionBackwardDqFlash, flashKeyShape } from '../../kernels/attention/backward-flash.ts';
import { autotune, autotuneEnabled, tunedChoice, type TuneOpts } from '../autotune.ts';
import { gpuSync } from '../device.ts';
import { engineSwitch } from '../switches.ts';
import { randn } from '../create.ts';
import { attentionBackwardDkv, attentionBackwardDq, attentionBackwardPrep } from '../../kernels/attention/backward-rows.ts';
import { attentionBackwardDkvSubgroup, attentionBackwardDqSubgroup } from '../../kernels/attention/backward-subgroup.ts';
import { attentionBackwardDqScores } from '../../kernels/attention/backward-scores.ts';
import { ATTN_WG } from '../../kernels/attention/common.ts';
import { attentionBackwardRef, attentionRef, type AttnDims } from '../reference/attention.ts';
import type { Param } from '../runtime.ts';

export interface AttentionOpts {
  /** Causal mask (default true): query i sees key j ≤ i + queryOffset. */
  causal?: boolean;
  /** i32 [B]: valid keys per batch row (right padding); keys ≥ length are masked. */
  keyLengths?: Tensor;
  /** Score scale, default 1/sqrt(Dh). */
  scale?: number;
  /** Position of query 0 relative to key 0 (KV cache), default S − T. */
  queryOffset?: number;
}

export const ATTENTION_MAX_DH = 256; // register accumulators of Dh floats per invocation

function checkAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOpts): AttnDims {
  const op = 'attention';
  const lens = opts.keyLengths;
  const ts = lens ? [q, k, v, lens] : [q, k, v];
  assertLive(op, ...ts);
  for (const t of [q, k, v]) assertDtype(op, t, 'f32');
  if (lens) assertDtype(op, lens, 'i32');
  assertSameBackend(op, ...ts);
  const shapes = `q [${q.shape.join(', ')}], k [${k.shape.join(', ')}], v [${v.shape.join(', ')}]${lens ? `, keyLengths [${lens.shape.join(', ')}]` : ''}`;
  const fail = (why: string) => {
    throw new Error(`attention: ${why} (${shapes})`);
  };
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) fail('q must be [B, T, H, Dh] and k, v [B, S, Hkv, Dh]');
  const [B, T, H, Dh] = q.shape as [number, number, number, number];
  const [Bk, S, Hkv, Dk] = k.shape as [number, number, number, number];
  if (k.shape.join(',') !== v.shape.join(',')) fail('k and v shapes differ');
  if (Bk !== B) fail(`batch sizes differ: ${B} vs ${Bk}`);
  if (Dk !== Dh) fail(`head dims differ: ${Dh} vs ${Dk}`);
  if (Hkv === 0 || H % Hkv !== 0) fail(`query heads ${H} must be a multiple of kv heads ${Hkv}`);
  if (Dh === 0 || Dh % 4 !== 0 || Dh > ATTENTION_MAX_DH) fail(`head dim ${Dh} must be a positive multiple of 4, at most ${ATTENTION_MAX_DH}`);
  if (lens && (lens.rank !== 1 || lens.shape[0] !== B)) fail(`keyLengths must be [${B}]`);
  const offset = opts.queryOffset ?? S - T;
  if (!Number.isInteger(offset)) fail(`queryOffset ${offset} must be an integer`);
  const scale = opts.scale ?? 1 / Math.sqrt(Dh);
  if (!Number.isFinite(scale)) fail(`scale ${scale} must be finite`);
  return { B, T, S, H, Hkv, Dh, causal: opts.causal ?? true, scale, offset };
}

export type AttentionVariant = 'rows' | 'subgroup' | 'subgroup-ds' | 'flash';
export const ATTENTION_VARIANTS: readonly AttentionVariant[] = ['rows', 'subgroup', 'subgroup-ds', 'flash'];

/**
 * Largest dS buffer ([B, H, T, S rounded up to 4] f32) the 'subgroup-ds' backward allocates; above it
 * that variant's backward is the two recomputing passes of 'subgroup' (same math). 64 MiB holds
 * B1 H12 T1024 S1024 (48 MiB) and the SFT step's B16 H4 T112 (3.2 MiB).
 */
export const ATTN_SCORES_MAX_BYTES = 64 * 2 ** 20;
let scoresMaxBytes = ATTN_SCORES_MAX_BYTES;

/** Sets the dS budget of 'subgroup-ds' (tests reach its fallback with 0); null restores ATTN_SCORES_MAX_BYTES. */
export function setAttentionScoresMaxBytes(n: number | null): void {
  if (n !== null && !(Number.isInteger(n) && n >= 0)) throw new Error(`setAttentionScoresMaxBytes: ${n} is not a byte count`);
  scoresMaxBytes = n ?? ATTN_SCORES_MAX_BYTES;
}

/** Bytes of the dS buffer of the 'subgroup-ds' backward. */
export function attentionScoresBytes(d: Pick<AttnDims, 'B' | 'H' | 'T' | 'S'>): number {
  return d.B * d.H * d.T * Math.ceil(d.S / 4) * 16;
}

/** 'subgroup-ds' needs the subgroup kernels and 9 storage buffers in its dK/dV pass. */
function scoresUsable(): boolean {
  return subgroupKernelsUsable(ATTN_WG) && (gpuSync().info.limits.maxStorageBuffersPerShaderStage ?? 8) >= 9;
}

let override: AttentionVariant | null = null;

function checkVariant(v: string, where: string): AttentionVariant {
  if (!ATTENTION_VARIANTS.includes(v as AttentionVariant)) throw new Error(`${where}: unknown attention variant "${v}" (one of ${ATTENTION_VARIANTS.join(', ')})`);
  if ((v === 'subgroup' || v === 'subgroup-ds') && !subgroupKernelsUsable(ATTN_WG)) throw new Error(`${where}: the subgroup attention kernels need a fixed subgroup size dividing ${ATTN_WG}, which ${gpuSync().info.adapter} lacks`);
  if (v === 'subgroup-ds' && !scoresUsable()) throw new Error(`${where}: 'subgroup-ds' needs 9 storage buffers per shader stage, which ${gpuSync().info.adapter} lacks`);
  return v as AttentionVariant;
}

/** Forces one variant for every GPU attention (tests, benchmarks); null restores the tuned/fixed choice. */
export function setAttentionVariant(v: AttentionVariant | null): void {
  override = v === null ? null : checkVariant(v, 'setAttentionVariant');
}

/** The variants this adapter can run. */
export function attentionVariants(): AttentionVariant[] {
  return ATTENTION_VARIANTS.filter((v) => (v === 'subgroup' ? subgroupKernelsUsable(ATTN_WG) : v === 'subgroup-ds' ? scoresUsable() : true));
}

/**
 * The kernel family's variant: 'rows' without fixed subgroups, else 'subgroup-ds' where it can run
 * (lavapipe, causal, wall ms per backward, subgroup → subgroup-ds: B16 H4/2 T112 D16 4.22 → 3.77,
 * D32 7.92 → 6.90, D64 15.30 → 12.73; B1 H12 T512 D32 25.2 → 23.6, D64 48.7 → 40.3; B4 H8 T128 D128
 * 24.1 → 18.2), else 'subgroup'.
 */
function subgroupFamilyVariant(): AttentionVariant {
  if (subgroupKernelSize(ATTN_WG) === null) return 'rows';
  return scoresUsable() ? 'subgroup-ds' : 'subgroup';
}

/**
 * The fixed rule: on CPU adapters the kernel family (subgroup-ds or subgroup where the adapter has fixed subgroups;
 * measured on lavapipe, B1 H12 T512 D64 causal, adapter-thread CPU: forward 221 → 30 ms, backward
 * 521 → 122 ms against the row kernels), whose lanes are SIMD lanes of one CPU thread and for which
 * workgroup memory and barriers are pure overhead (flash there, same shape, loaded machine: forward
 * 225 ms and backward 747 ms of adapter CPU against subgroup's 31 and 93); on hardware GPUs the flash
 * kernels, which read each key/value (query/dO in dK/dV) once per workgroup of 32 rows instead of
 * once per row and keep 4 invocations per row busy — not yet measured on one.
 */
export function chooseAttentionVariant(): AttentionVariant {
  if (gpuSync().info.isSoftware) return subgroupFamilyVariant();
  return 'flash';
}

/** Autotune bucket: ⌊log2⌋ classes of the query rows (B·H·T) and of the keys, the head dim, the mask. */
export function attentionBucket(d: AttnDims): string {
  const lg = (x: number) => Math.floor(Math.log2(Math.max(1, x)));
  return `bht2^${lg(d.B * d.H * d.T)},s2^${lg(d.S)},d${d.Dh},${d.causal ? 'causal' : 'full'}`;
}

/**
 * The variant a GPU attention runs: setAttentionVariant, else CSRM_ATTENTION, else a family forced by
 * setKernelFamily / CSRM_KERNELS, else the tuned choice for the bucket (tuneAttention), else the fixed rule.
 */
export function attentionVariantFor(d: AttnDims): AttentionVariant {
  if (override) return override;
  const env = engineSwitch('CSRM_ATTENTION');
  if (env !== undefined) return checkVariant(env, 'CSRM_ATTENTION');
  const family = forcedKernelFamily();
  if (family !== null) return subgroupFamilyVariant();
  const tuned = tunedChoice('attention', attentionBucket(d)) as AttentionVariant | undefined;
  // a cache written by another version or device setup may name a variant this one cannot run
  if (tuned !== undefined && attentionVariants().includes(tuned)) return tuned;
  return chooseAttentionVariant();
}

/**
 * Measures forward + backward of every variant at each shape's bucket (once per bucket and adapter;
 * engine/autotune.ts caches the choice) so later attention calls in those buckets run the fastest.
 * Returns the choice per bucket; with autotuning off, the fixed rule's choice, running nothing.
 */
export async function tuneAttention(list: readonly Omit<AttnDims, 'scale' | 'offset'>[], opts: TuneOpts = {}): Promise<Map<string, AttentionVariant>> {
  const out = new Map<string, AttentionVariant>();
  for (const s of list) {
    const d: AttnDims = { ...s, scale: 1 / Math.sqrt(s.Dh), offset: s.S - s.T };
    const bucket = attentionBucket(d);
    if (out.has(bucket)) continue;
    const fallback = chooseAttentionVariant();
    if (!autotuneEnabled()) {
      out.set(bucket, fallback);
      continue;
    }
    const q = randn([d.B, d.T, d.H, d.Dh], { seed: 21 });
    const k = randn([d.B, d.S, d.Hkv, d.Dh], { seed: 22 });
    const v = randn([d.B, d.S, d.Hkv, d.Dh], { seed: 23 });
    try {
      const variants = attentionVariants().map((name) => ({
        name,
        async run() {
          const [o, lse] = attentionForwardWith(name, q, k, v, undefined, d);
          const grads = attentionBackwardWith(name, q, k, v, undefined, o, lse, o, d);
          await sync();
          for (const t of [o, lse, ...grads]) t.dispose();
        },
      }));
      out.set(bucket, (await autotune({ op: 'attention', bucket }, variants, { fallback, ...opts })) as AttentionVariant);
    } finally {
      for (const t of [q, k, v]) t.dispose();
    }
  }
  return out;
}

function params(d: AttnDims, hasLen: boolean): Param[] {
  return [d.B, d.T, d.S, d.H, d.Hkv, d.H / d.Hkv, d.causal ? 1 : 0, hasLen ? 1 : 0, d.offset, { f: d.scale }];
}

/** Raw forward (no autograd; the caller owns both outputs): O [B, T, H, Dh] and LSE [B, H, T]. */
export function attentionForwardRaw(q: Tensor, k: Tensor, v: Tensor, lens: Tensor | undefined, d: AttnDims): [Tensor, Tensor] {
  return attentionForwardWith(q.backend === 'cpu' ? 'rows' : attentionVariantFor(d), q, k, v, lens, d);
}

function attentionForwardWith(variant: AttentionVariant, q: Tensor, k: Tensor, v: Tensor, lens: Tensor | undefined, d: AttnDims): [Tensor, Tensor] {
  const o = empty(q.shape, 'f32', q.backend);
  const lse = empty([d.B, d.H, d.T], 'f32', q.backend);
  if (o.size === 0) return [o, lse];
  if (q.backend === 'cpu') {
    const r = attentionRef(q.cpu!, k.cpu!, v.cpu!, lens ? lens.cpu! : null, d);
    (o.cpu as Float64Array).set(r.o);
    (lse.cpu as Float64Array).set(r.lse);
    return [o, lse];
  }
  // without key lengths the mask reads no lengths; q stands in for the unused binding
  const SG = gpuSync().info.subgroupSize!;
  const kern = variant === 'flash' ? attentionForwardFlash(d.Dh) : variant === 'rows' ? attentionForwardRows(d.Dh) : attentionForwardSubgroup(d.Dh, SG);
  const rows = variant === 'flash' ? flashQueryShape(d.Dh).rows : ATTN_WG;
  launch(kern, [q, k, v, lens ?? q, o, lse], [Math.ceil(d.T / rows), d.H, d.B], params(d, !!lens), 'attention');
  return [o, lse];
}

type BackwardArgs = [q: Tensor, k: Tensor, v: Tensor, lens: Tensor | undefined, o: Tensor, lse: Tensor, dout: Tensor, d: AttnDims];

/** Raw backward: [dQ, dK, dV] from the saved O and LSE and the output gradient dO. */
export function attentionBackward(...a: BackwardArgs): [Tensor, Tensor, Tensor] {
  return attentionBackwardWith(a[0].backend === 'cpu' ? 'rows' : attentionVariantFor(a[7]), ...a);
}

function attentionBackwardWith(variant: AttentionVariant, ...[q, k, v, lens, o, lse, dout, d]: BackwardArgs): [Tensor, Tensor, Tensor] {
  const dq = empty(q.shape, 'f32', q.backend);
  const dk = empty(k.shape, 'f32', k.backend);
  const dv = empty(v.shape, 'f32', v.backend);
  if (q.backend === 'cpu') {
    const r = attentionBackwardRef(q.cpu!, k.cpu!, v.cpu!, lens ? lens.cpu! : null, dout.cpu!, d);
    (dq.cpu as Float64Array).set(r.dq);
    (dk.cpu as Float64Array).set(r.dk);
    (dv.cpu as Float64Array).set(r.dv);
    return [dq, dk, dv];
  }
  const P = params(d, !!lens);
  const L = lens ?? q;
  const op = 'attention backward';
  const ld = empty([d.B, d.H, d.T, 2], 'f32', 'gpu');
  const SG = gpuSync().info.subgroupSize!;
  const flash = variant === 'flash';
  if (variant === 'subgroup-ds' && attentionScoresBytes(d) > scoresMaxBytes) variant = 'subgroup';
  if (variant === 'subgroup-ds') {
    if (q.size > 0) launch(attentionBackwardPrep(d.Dh), [o, dout, lse, ld], [Math.ceil(d.T / ATTN_WG), d.H, d.B], P, op);
    const ds = empty([attentionScoresBytes(d) / 4], 'f32', 'gpu');
    if (k.size > 0) launch(attentionBackwardDkvSubgroup(d.Dh, SG, true), [q, k, v, dout, ld, L, dk, dv, ds], [Math.ceil(d.S / ATTN_WG), d.Hkv, d.B], P, op);
    if (q.size > 0) launch(attentionBackwardDqScores(d.Dh, SG), [k, ds, L, dq], [Math.ceil(d.T / ATTN_WG), d.H, d.B], P, op);
    ds.dispose();
    ld.dispose();
    return [dq, dk, dv];
  }
  if (q.size > 0) {
    launch(attentionBackwardPrep(d.Dh), [o, dout, lse, ld], [Math.ceil(d.T / ATTN_WG), d.H, d.B], P, op);
    const dqK = variant === 'flash' ? attentionBackwardDqFlash(d.Dh) : variant === 'subgroup' ? attentionBackwardDqSubgroup(d.Dh, SG) : attentionBackwardDq(d.Dh);
    launch(dqK, [q, k, v, dout, ld, L, dq], [Math.ceil(d.T / (flash ? flashQueryShape(d.Dh).rows : ATTN_WG)), d.H, d.B], P, op);
  }
  // with T = 0 this writes zeros: no query sees any key
  const dkvK = variant === 'flash' ? attentionBackwardDkvFlash(d.Dh) : variant === 'subgroup' ? attentionBackwardDkvSubgroup(d.Dh, SG, false) : attentionBackwardDkv(d.Dh);
  if (k.size > 0) launch(dkvK, [q, k, v, dout, ld, L, dk, dv], [Math.ceil(d.S / (flash ? flashKeyShape(d.Dh).rows : ATTN_WG)), d.Hkv, d.B], P, op);
  ld.dispose();
  return [dq, dk, dv];
}

/**
 * softmax(scale·Q·Kᵀ + mask)·V per head. q [B, T, H, Dh]; k, v [B, S, Hkv, Dh] with H % Hkv == 0
 * (query head h uses kv head h / (H/Hkv)). Queries with no visible key give zeros (and zero gradient).
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOpts = {}): Tensor {
  const d = checkAttention(q, k, v, opts);
  const lens = opts.keyLengths;
  const [o, lse] = attentionForwardRaw(q, k, v, lens, d);
  const inputs = lens ? [q, k, v, lens] : [q, k, v];
  record(o, 'attention', inputs, (g) => [...attentionBackward(q, k, v, lens, o, lse, g, d), null].slice(0, inputs.length));
  if (!o.node) lse.dispose(); // no backward will read it
  return o;
}
