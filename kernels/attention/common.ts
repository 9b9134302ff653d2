// WGSL shared by the attention kernels: the uniform block, tensor layouts and the mask.
// Layouts (vec4 units along the head dim, DH4 = Dh/4):
//   q, o, dO  [B, T, H, Dh]      k, v, dK, dV  [B, S, Hkv, Dh]      lse  [B, H, T]
// Mask: query i of batch b sees key j  ⇔  j < len_b  and (not causal or j ≤ i + off).
// Grouped-query: query head h reads kv head h / group, group = H / Hkv.

export const ATTN_PARAMS = `struct P { B: u32, T: u32, S: u32, H: u32, Hkv: u32, group: u32, causal: u32, hasLen: u32, off: i32, scale: f32 }
@group(0) @binding(0) var<uniform> p: P;`;

/** Bindings of the forward kernels (q, k, v, lens → o, lse), of dQ and of dK/dV (backward: + dout, ld). */
export const ATTN_FWD_BINDINGS = `@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> lens: array<i32>;
@group(0) @binding(5) var<storage, read_write> o: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> lse: array<f32>;`;
const ATTN_BWD_INPUTS = `@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> ld: array<vec2<f32>>;
@group(0) @binding(6) var<storage, read> lens: array<i32>;`;
export const ATTN_DQ_BINDINGS = `${ATTN_BWD_INPUTS}
@group(0) @binding(7) var<storage, read_write> dq: array<vec4<f32>>;`;
export const ATTN_DKV_BINDINGS = `${ATTN_BWD_INPUTS}
@group(0) @binding(7) var<storage, read_write> dk: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read_write> dv: array<vec4<f32>>;`;

/** Query-row state of the forward (scaled q and the output accumulator) and of dQ (+ dO and the row's
 * (lse, D)), given `i`, `h`, `b`: WGSL shared by the row and the subgroup kernels. */
export const FWD_ROW_STATE = (DH4: number) => `let hk = h / p.group;
  let qo = qBase(b, i, h);
  var qr: array<vec4<f32>, ${DH4}>;
  var acc: array<vec4<f32>, ${DH4}>;
  ${unroll(DH4, (d) => `qr[${d}] = q[qo + ${d}u] * p.scale; acc[${d}] = vec4<f32>(0.0);`)}
  var m = -3.0e38;
  var l = 0.0;
  let end = keyEnd(b, i);`;
export const DQ_ROW_STATE = (DH4: number) => `let hk = h / p.group;
  let qo = qBase(b, i, h);
  let st = ld[(b * p.H + h) * p.T + i];
  var qr: array<vec4<f32>, ${DH4}>;
  var gr: array<vec4<f32>, ${DH4}>;
  var acc: array<vec4<f32>, ${DH4}>;
  ${unroll(DH4, (d) => `qr[${d}] = q[qo + ${d}u] * p.scale; gr[${d}] = dout[qo + ${d}u]; acc[${d}] = vec4<f32>(0.0);`)}
  let end = keyEnd(b, i);`;

/** One key of the forward's online softmax (see forward-rows.ts): `key(d)` / `val(d)` give vec4 d of
 * the key's K and V rows. */
export const ONLINE_SOFTMAX_STEP = (DH4: number, key: (d: number) => string, val: (d: number) => string) => `var s4 = vec4<f32>(0.0);
    ${unroll(DH4, (d) => `s4 = fma(qr[${d}], ${key(d)}, s4);`)}
    let s = hsum(s4);
    if (s > m) {
      let c = exp(m - s);
      l = l * c;
      ${unroll(DH4, (d) => `acc[${d}] = acc[${d}] * c;`)}
      m = s;
    }
    let e = exp(s - m);
    l = l + e;
    ${unroll(DH4, (d) => `acc[${d}] = fma(vec4<f32>(e), ${val(d)}, acc[${d}]);`)}`;

/** The forward's outputs of query row i: o = acc / l, lse = m + log l (no visible key: 0, 0). */
export const FWD_ROW_WRITE = (DH4: number) => `let inv = select(0.0, 1.0 / l, l > 0.0);
    ${unroll(DH4, (d) => `o[qo + ${d}u] = acc[${d}] * inv;`)}
    lse[(b * p.H + h) * p.T + i] = select(0.0, m + log(l), l > 0.0);`;

/** Key-row state of dK/dV (scaled k, v and both accumulators), given `j`, `hk`, `b`. */
export const DKV_ROW_STATE = (DH4: number) => `let ko = kBase(b, j, hk);
  var kr: array<vec4<f32>, ${DH4}>;
  var vr: array<vec4<f32>, ${DH4}>;
  var ak: array<vec4<f32>, ${DH4}>;
  var av: array<vec4<f32>, ${DH4}>;
  ${unroll(DH4, (d) => `kr[${d}] = k[ko + ${d}u] * p.scale; vr[${d}] = v[ko + ${d}u]; ak[${d}] = vec4<f32>(0.0); av[${d}] = vec4<f32>(0.0);`)}
  let start = queryStart(b, j);`;

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

/** The header of a kernel that runs on subgroups: the extension, the uniformity diagnostic off (the
 * row loops run to subgroup-uniform bounds the analysis cannot see), the parameters and the bindings. */
export const ATTN_SUBGROUP_HEAD = (bindings: string) => `enable subgroups;
diagnostic(off, subgroup_uniformity);
${ATTN_PARAMS}
${bindings}`;

export const ATTN_WG = 32;

/** n copies of a statement with its index d as a literal. Loops over the head dim are written out
 * so that the per-invocation arrays are indexed by constants: lavapipe's compiler otherwise unrolls
 * them itself and lowers each dynamic index into a branch ladder, and its compile time grows with Dh². */
export function unroll(n: number, stmt: (d: number) => string): string {
  return Array.from({ length: n }, (_, d) => stmt(d)).join('\n  ');
}

/** Rows (keys or queries) per block of the subgroup kernels: a lane then holds ≤ 4 vec4 of each blocked operand. */
export function attentionKeyBlock(Dh: number, SG: number): number {
  return Math.max(1, Math.floor((4 * SG) / (Dh / 4)));
}

/**
 * Subgroup kernels (forward-subgroup.ts, backward-subgroup.ts): a block of `rows` rows × `per` values
 * (vec4 of a head-dim row, or one lse/D pair) spread over the SG lanes — value t = row·per + c lives
 * in lane t % SG, slot ⌊t / SG⌋ — and handed to every lane with subgroupBroadcast.
 */
export function blockLayout(rows: number, per: number, SG: number) {
  const total = rows * per;
  const slots = Math.ceil(total / SG);
  return {
    slots,
    /** WGSL: load slot u of this lane (`ld(row, c)` gives the element expression for value c of a row of the block). */
    load: (name: string, u: number, ld: (row: string, c: string) => string) =>
      `let ${name}${u} = ${ld(`min((${u * SG}u + lane) / ${per}u, ${rows - 1}u)`, `((${u * SG}u + lane) % ${per}u)`)};`,
    /** WGSL expression: value c of row r (every lane gets it). */
    get: (name: string, r: number, c: number) => {
      const t = r * per + c;
      return `subgroupBroadcast(${name}${Math.floor(t / SG)}, ${t % SG}u)`;
    },
  };
}
