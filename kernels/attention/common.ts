// WGSL shared by the attention kernels: the uniform block, tensor layouts and the mask.
// Layouts (vec4 units along the head dim, DH4 = Dh/4):
//   q, o, dO  [B, T, H, Dh]      k, v, dK, dV  [B, S, Hkv, Dh]      lse  [B, H, T]
// Mask: query i of batch b sees key j  ⇔  j < len_b  and (not causal or j ≤ i + off).
// Grouped-query: query head h reads kv head h / group, group = H / Hkv.

export const ATTN_PARAMS = `struct P { B: u32, T: u32, S: u32, H: u32, Hkv: u32, group: u32, causal: u32, hasLen: u32, off: i32, scale: f32 }
@group(0) @binding(0) var<uniform> p: P;`;

/** Helpers; `lens` must be declared by the kernel (bound to a dummy buffer when hasLen == 0). */
export const ATTN_HELPERS = (DH4: number) => `
const DH4: u32 = ${DH4}u;
fn qBase(b: u32, t: u32, h: u32) -> u32 { return ((b * p.T + t) * p.H + h) * DH4; }
fn kBase(b: u32, s: u32, hk: u32) -> u32 { return ((b * p.S + s) * p.Hkv + hk) * DH4; }
// valid keys of batch row b (right padding); lengths are clamped to [0, S]
fn keyLen(b: u32) -> u32 {
  if (p.hasLen == 0u) { return p.S; }
  return u32(clamp(lens[b], 0, i32(p.S)));
}
// keys [0, end) are visible to query i
fn keyEnd(b: u32, i: u32) -> u32 {
  var e = keyLen(b);
  if (p.causal != 0u) { e = u32(clamp(i32(i) + p.off + 1, 0, i32(e))); }
  return e;
}
// queries [start, T) see key j (empty when j is a padded key)
fn queryStart(b: u32, j: u32) -> u32 {
  if (j >= keyLen(b)) { return p.T; }
  if (p.causal == 0u) { return 0u; }
  return u32(clamp(i32(j) - p.off, 0, i32(p.T)));
}
fn hsum(v: vec4<f32>) -> f32 { return v.x + v.y + v.z + v.w; }`;

export const ATTN_WG = 32;

/** Bindings 1–3: q, k, v. */
export const ATTN_QKV = `@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<f32>>;`;

/** Bindings 1–6 of the dQ and dK/dV passes: q, k, v, dO, the prep pass's (lse, D) and the key lengths. */
export const ATTN_BWD_INPUTS = `${ATTN_QKV}
@group(0) @binding(4) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> ld: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read> lens: array<i32>;`;

/** Entry of a kernel with one invocation per query row: its row i, head h, batch b, kv head hk and offset qo. Grid (ceil(T / WG), H, B). */
export const ATTN_QUERY_ROW_MAIN = `@compute @workgroup_size(${ATTN_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  let h = gid.y;
  let b = gid.z;
  if (i >= p.T) { return; }
  let hk = h / p.group;
  let qo = qBase(b, i, h);`;

/** n copies of a statement with its index d as a literal. Loops over the head dim are written out
 * so that the per-invocation arrays are indexed by constants: lavapipe's compiler otherwise unrolls
 * them itself and lowers each dynamic index into a branch ladder, and its compile time grows with Dh². */
export function unroll(n: number, stmt: (d: number) => string): string {
  return Array.from({ length: n }, (_, d) => stmt(d)).join('\n  ');
}
