// Row-wise top-k that folds one chunk of a score matrix into a running top-k per row: one
// workgroup per row; each thread keeps a sorted list of its strided columns (and of the running
// list), then the lists are merged pairwise in workgroup memory. Order: higher score first, ties
// to the lower global index, exactly like the host heap (pipeline/rqa/topk.ts).
import { kernel, type Kernel } from '../kernel.ts';

/** Workgroup memory is kept within WebGPU's guaranteed 16 KiB: WG·KP·(4+4) bytes. */
export const TOPK_MAX_K = 128;

export function topkWorkgroup(kp: number): number {
  return Math.min(64, 2048 / kp);
}

/** The list capacity used for k: two specialisations only (each costs seconds to compile on lavapipe). */
export function topkCapacity(k: number): number {
  if (k > TOPK_MAX_K) throw new Error(`topkCapacity: k ${k} exceeds ${TOPK_MAX_K}`);
  return k <= 32 ? 32 : TOPK_MAX_K;
}

/** `kp` (a power of two ≤ TOPK_MAX_K) is the list capacity; the list length K ≤ kp is a uniform. */
export function topkRows(kp: number): Kernel {
  if (!Number.isInteger(Math.log2(kp)) || kp > TOPK_MAX_K) throw new Error(`topkRows: bad list capacity ${kp}`);
  const wg = topkWorkgroup(kp);
  return kernel(
    `topk_rows_k${kp}`,
    /* wgsl */ `
struct P { Q: u32, C: u32, start: u32, hasPrev: u32, K: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> scores: array<f32>;
@group(0) @binding(2) var<storage, read> prevV: array<f32>;
@group(0) @binding(3) var<storage, read> prevI: array<u32>;
@group(0) @binding(4) var<storage, read_write> outV: array<f32>;
@group(0) @binding(5) var<storage, read_write> outI: array<u32>;
const KP = ${kp}u; // array capacity; p.K (≤ KP) is the list length, a runtime bound so loops are not unrolled
const WG = ${wg}u;
const NEG = -3.4028234e38;
const NONE = 0xffffffffu;
var<workgroup> sv: array<f32, ${wg * kp}>;
var<workgroup> si: array<u32, ${wg * kp}>;
fn better(a: f32, ia: u32, b: f32, ib: u32) -> bool { return a > b || (a == b && ia < ib); }
@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>,
        @builtin(local_invocation_index) tid: u32) {
  let q = wid.x + wid.y * nw.x;
  let live = q < p.Q;
  var lv: array<f32, KP>;
  var li: array<u32, KP>;
  for (var j = 0u; j < p.K; j++) { lv[j] = NEG; li[j] = NONE; }
  let nIn = select(0u, p.C + select(0u, p.K, p.hasPrev == 1u), live);
  for (var j = tid; j < nIn; j += WG) {
    var v: f32;
    var gi: u32;
    if (j < p.C) { v = scores[q * p.C + j]; gi = p.start + j; }
    else { v = prevV[q * p.K + j - p.C]; gi = prevI[q * p.K + j - p.C]; }
    if (gi == NONE || !better(v, gi, lv[p.K - 1u], li[p.K - 1u])) { continue; }
    var at = p.K - 1u;
    loop {
      if (at == 0u || !better(v, gi, lv[at - 1u], li[at - 1u])) { break; }
      lv[at] = lv[at - 1u];
      li[at] = li[at - 1u];
      at--;
    }
    lv[at] = v;
    li[at] = gi;
  }
  for (var j = 0u; j < p.K; j++) { sv[tid * p.K + j] = lv[j]; si[tid * p.K + j] = li[j]; }
  workgroupBarrier();
  // Pairwise merge: after the round with stride s, list t (t < s) holds the best of lists t, t+s.
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (tid < s) {
      var a = tid * p.K;
      var b = (tid + s) * p.K;
      let aEnd = a + p.K;
      let bEnd = b + p.K;
      for (var j = 0u; j < p.K; j++) {
        let takeA = b >= bEnd || (a < aEnd && better(sv[a], si[a], sv[b], si[b]));
        if (takeA) { lv[j] = sv[a]; li[j] = si[a]; a++; } else { lv[j] = sv[b]; li[j] = si[b]; b++; }
      }
    }
    workgroupBarrier();
    if (tid < s) {
      for (var j = 0u; j < p.K; j++) { sv[tid * p.K + j] = lv[j]; si[tid * p.K + j] = li[j]; }
    }
    workgroupBarrier();
  }
  if (live) {
    for (var j = tid; j < p.K; j += WG) { outV[q * p.K + j] = sv[j]; outI[q * p.K + j] = si[j]; }
  }
}`,
    ['r', 'r', 'r', 'rw', 'rw'],
  );
}
