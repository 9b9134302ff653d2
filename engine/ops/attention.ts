// Fused causal/padded multi-head (and grouped-query) attention. The forward never materialises the
// T×S score matrix: kernels/attention/forward-rows.ts streams keys with an online softmax and saves
// the log-sum-exp; the backward recomputes P from Q, K and the LSE (kernels/attention/backward-rows.ts).
// On the cpu backend both directions are the float64 naive reference (engine/reference/attention.ts),
// which is what gradcheck and gpucheck compare against.
import { record } from '../autograd.ts';
import { launch } from '../runtime.ts';
import { assertDtype, assertLive, assertSameBackend, empty, Tensor } from '../tensor.ts';
import { attentionForwardRows } from '../../kernels/attention/forward-rows.ts';
import { attentionForwardSubgroup } from '../../kernels/attention/forward-subgroup.ts';
import { subgroupKernelSize } from '../kernel-family.ts';
import { attentionBackwardDkv, attentionBackwardDq, attentionBackwardPrep } from '../../kernels/attention/backward-rows.ts';
import { attentionBackwardDkvSubgroup, attentionBackwardDqSubgroup } from '../../kernels/attention/backward-subgroup.ts';
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

/**
 * The subgroup size the attention kernels run with, or null for the row kernels (engine/kernel-family.ts).
 * Measured on lavapipe, B1 H12 T512 D64 causal, adapter-thread CPU: forward 221 → 30 ms, backward
 * 521 → 122 ms.
 */
function attentionSubgroupSize(): number | null {
  return subgroupKernelSize(ATTN_WG);
}

function params(d: AttnDims, hasLen: boolean): Param[] {
  return [d.B, d.T, d.S, d.H, d.Hkv, d.H / d.Hkv, d.causal ? 1 : 0, hasLen ? 1 : 0, d.offset, { f: d.scale }];
}

/** Raw forward (no autograd; the caller owns both outputs): O [B, T, H, Dh] and LSE [B, H, T]. */
export function attentionForwardRaw(q: Tensor, k: Tensor, v: Tensor, lens: Tensor | undefined, d: AttnDims): [Tensor, Tensor] {
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
  const SG = attentionSubgroupSize();
  const kern = SG === null ? attentionForwardRows(d.Dh) : attentionForwardSubgroup(d.Dh, SG);
  launch(kern, [q, k, v, lens ?? q, o, lse], [Math.ceil(d.T / ATTN_WG), d.H, d.B], params(d, !!lens), 'attention');
  return [o, lse];
}

/** Raw backward: [dQ, dK, dV] from the saved O and LSE and the output gradient dO. */
export function attentionBackward(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  lens: Tensor | undefined,
  o: Tensor,
  lse: Tensor,
  dout: Tensor,
  d: AttnDims,
): [Tensor, Tensor, Tensor] {
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
  const SG = attentionSubgroupSize();
  if (q.size > 0) {
    launch(attentionBackwardPrep(d.Dh), [o, dout, lse, ld], [Math.ceil(d.T / ATTN_WG), d.H, d.B], P, op);
    const dqK = SG === null ? attentionBackwardDq(d.Dh) : attentionBackwardDqSubgroup(d.Dh, SG);
    launch(dqK, [q, k, v, dout, ld, L, dq], [Math.ceil(d.T / ATTN_WG), d.H, d.B], P, op);
  }
  // with T = 0 this writes zeros: no query sees any key
  const dkvK = SG === null ? attentionBackwardDkv(d.Dh) : attentionBackwardDkvSubgroup(d.Dh, SG);
  if (k.size > 0) launch(dkvK, [q, k, v, dout, ld, L, dk, dv], [Math.ceil(d.S / ATTN_WG), d.Hkv, d.B], P, op);
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
