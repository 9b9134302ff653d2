// Loss benchmarks. (1) The fused three-token CE forward (one kernel reading 3 logits per row)
// against the unfused path a framework would run: a full-vocabulary softmax over [B, V] into a
// probability buffer, then a gather of the three label columns (renormalised) and the CE. Both give
// the same p̂, so both are checked against the same float64 reference. (2) LM cross-entropy forward +
// backward over a full vocabulary (tokens/s = N / median time).
import * as E from '../engine/index.ts';
import { launch, grid1d } from '../engine/runtime.ts';
import { kernel } from '../kernels/kernel.ts';
import { threeTokenCE, lmCrossEntropy, type LabelIds } from '../engine/losses/index.ts';
import { ce3ForwardRef } from '../engine/reference/losses/ce3.ts';
import { lmCeBackwardRef, lmCeForwardRef } from '../engine/reference/losses/lm-ce.ts';
import type { BenchCase, BenchInstance, BenchOpts, BenchSuite } from './types.ts';

const WG = 64;

// The unfused baseline, written as the two kernels a framework would dispatch: softmax per row over
// the full vocabulary (max, Σ exp, write), then gather + renormalise + CE, summed in one workgroup.
const softmaxRows = kernel(
  'bench_softmax_rows',
  /* wgsl */ `
struct P { rows: u32, V4: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<f32>>;
var<workgroup> part: array<f32, ${WG}>;
fn reduce(lid: u32, v: f32, isMax: bool) -> f32 {
  part[lid] = v;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { part[lid] = select(part[lid] + part[lid + s], max(part[lid], part[lid + s]), isMax); }
    workgroupBarrier();
  }
  let r = part[0];
  workgroupBarrier();
  return r;
}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nw: vec3<u32>) {
  let row = wid.x + wid.y * nw.x;
  if (row >= p.rows) { return; }
  let b = row * p.V4;
  var m = -3.4028234663852886e38;
  for (var c = lid; c < p.V4; c += ${WG}u) { let v = x[b + c]; m = max(m, max(max(v.x, v.y), max(v.z, v.w))); }
  m = reduce(lid, m, true);
  var s = 0.0;
  for (var c = lid; c < p.V4; c += ${WG}u) { let e = exp(x[b + c] - vec4<f32>(m)); s += e.x + e.y + e.z + e.w; }
  s = reduce(lid, s, false);
  for (var c = lid; c < p.V4; c += ${WG}u) { y[b + c] = exp(x[b + c] - vec4<f32>(m)) / s; }
}`,
  ['r', 'rw'],
);

const gatherCe = kernel(
  'bench_gather_ce',
  /* wgsl */ `
struct P { B: u32, V: u32, id0: u32, id1: u32, id2: u32, alpha: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> probs: array<f32>;
@group(0) @binding(2) var<storage, read> hard: array<i32>;
@group(0) @binding(3) var<storage, read> soft: array<f32>;
@group(0) @binding(4) var<storage, read_write> total: array<f32>;
var<workgroup> part: array<f32, 256>;
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var i = lid; i < p.B; i += 256u) {
    let b = i * p.V;
    let q = vec3<f32>(probs[b + p.id0], probs[b + p.id1], probs[b + p.id2]);
    let lp = log(q / (q.x + q.y + q.z));
    let h = hard[i];
    let oh = vec3<f32>(select(0.0, 1.0, h == 0), select(0.0, 1.0, h == 1), select(0.0, 1.0, h == 2));
    let t = p.alpha * oh + (1.0 - p.alpha) * vec3<f32>(soft[3u * i], soft[3u * i + 1u], soft[3u * i + 2u]);
    acc -= dot(t, lp);
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (lid < s) { part[lid] += part[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { total[0] = part[0] / f32(p.B); }
}`,
  ['r', 'r', 'r', 'rw'],
);

function hostData(n: number, seed: number, scale: number): Float32Array {
  const r = E.rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * r.uniform() - 1) * scale;
  return a;
}

function ce3Case(B: number, V: number, fused: boolean): BenchCase {
  return {
    kernel: 'ce3_fwd',
    shape: `${B}x${V}`,
    system: fused ? 'ours:fused' : 'ours:unfused',
    // fused reads 3 logits per row; unfused reads [B, V] twice... three times and writes it once
    bytes: fused ? B * 3 * 4 + B * 16 : B * V * 4 * 4 + B * 16,
    ceiling: 'bandwidth',
    async setup(): Promise<BenchInstance> {
      const ids: LabelIds = [Math.floor(V / 3), 7, V - 2];
      const x = hostData(B * V, 1, 10);
      const hardH = Int32Array.from({ length: B }, (_, i) => i % 3);
      const softH = new Float32Array(B * 3).fill(1 / 3);
      const logits = E.keep(E.tensor(x, [B, V]));
      const hard = E.keep(E.tensor(hardH, [B], { dtype: 'i32' }));
      const soft = E.keep(E.tensor(softH, [B, 3]));
      const probs = fused ? null : E.keep(E.empty([B, V]));
      const total = E.keep(E.empty([]));
      let last = 0;
      const once = async () => {
        if (fused) {
          last = await E.scopeAsync(async () => E.item(threeTokenCE(logits, ids, hard, soft, { alpha: 0.5 })));
        } else {
          launch(softmaxRows, [logits, probs!], grid1d(B), [B, V / 4], 'bench_softmax');
          launch(gatherCe, [probs!, hard, soft, total], [1, 1, 1], [B, V, ids[0], ids[1], ids[2], { f: 0.5 }], 'bench_gather_ce');
          last = await E.item(total);
        }
      };
      await once();
      const peakBytes = E.liveBytes();
      return {
        run: once,
        peakBytes,
        async relErr() {
          const per = ce3ForwardRef({ logits: x, B, V, ids, hard: hardH, soft: softH, alpha: 0.5, weights: null });
          const ref = per.reduce((s, v) => s + v, 0) / B;
          return Math.abs(last - ref) / Math.abs(ref);
        },
        dispose() {
          E.release(logits, hard, soft, probs, total);
        },
      };
    },
  };
}

function lmCeCase(N: number, V: number): BenchCase {
  return {
    kernel: 'lm_ce_fwd_bwd',
    shape: `${N}x${V}`,
    system: 'ours',
    bytes: 3 * N * V * 4, // forward reads logits; backward reads them again and writes dlogits
    ceiling: 'bandwidth',
    async setup(): Promise<BenchInstance> {
      const x = hostData(N * V, 2, 8);
      const t = Int32Array.from({ length: N }, (_, i) => (i % 5 === 0 ? -100 : (i * 7919) % V));
      const logits = E.keep(E.tensor(x, [N, V], { requiresGrad: true }));
      const targets = E.keep(E.tensor(t, [N], { dtype: 'i32' }));
      let loss = 0;
      let grad: Float32Array | null = null;
      const once = async (keepGrad = false) => {
        await E.scopeAsync(async () => {
          const l = lmCrossEntropy(logits, targets);
          E.backward(l);
          loss = await E.item(l);
          if (keepGrad) grad = (await E.read(logits.grad!)) as Float32Array;
          E.zeroGrad([logits]);
        });
      };
      await once();
      const peakBytes = E.liveBytes();
      return {
        run: () => once(),
        peakBytes,
        async relErr() {
          await once(true);
          const a = { logits: x, N, V, targets: t, ignoreIndex: -100, weights: null, mean: true };
          const f = lmCeForwardRef(a);
          const fwd = Math.abs(loss - f.total) / Math.abs(f.total);
          return Math.max(fwd, E.relErr(grad!, lmCeBackwardRef(a, 1, f.norm)));
        },
        dispose() {
          E.release(logits, targets);
        },
      };
    },
  };
}

export const suite: BenchSuite = {
  name: 'losses',
  cases(opts: BenchOpts): BenchCase[] {
    const vs = opts.smoke ? [8, 20] : [8192, 32768];
    const bs = opts.smoke ? [3, 5] : [64, 256, 1024];
    const out: BenchCase[] = [];
    for (const V of vs)
      for (const B of bs) {
        if (opts.size !== undefined && opts.size !== B) continue;
        out.push(ce3Case(B, V, true), ce3Case(B, V, false));
      }
    const lm = opts.smoke ? [[6, 37]] : [[256, 8192], [512, 32768]];
    for (const [N, V] of lm) if (opts.size === undefined || opts.size === N) out.push(lmCeCase(N!, V!));
    return out;
  },
};
