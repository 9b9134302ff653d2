// Merging an adapter into the frozen weight: out[n, k] = W[n, k] + s · Σ_j B[n, j] · A[j, k]
// (s = ±alpha/r: + merges, − unmerges). Any non-finite result raises flag[0], so the engine can
// refuse the merge and leave W untouched.
import { kernel } from '../kernel.ts';

export const LORA_MERGE_WG = 256;

export const loraMergeKernel = kernel(
  'lora_merge',
  /* wgsl */ `
struct P { N: u32, K: u32, R: u32, s: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> a: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> flag: array<atomic<u32>>;
@compute @workgroup_size(${LORA_MERGE_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let idx = gid.x + gid.y * nw.x * ${LORA_MERGE_WG}u;
  if (idx >= p.N * p.K) { return; }
  let n = idx / p.K;
  let k = idx % p.K;
  var d = 0.0;
  for (var j = 0u; j < p.R; j++) { d = fma(b[n * p.R + j], a[j * p.K + k], d); }
  let v = w[idx] + p.s * d;
  out[idx] = v;
  // exponent bits all ones = Inf or NaN
  if ((bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u) { atomicMax(&flag[0], 1u); }
}`,
  ['r', 'r', 'r', 'rw', 'rw'],
);
