// LoRA input gradient in one kernel: base term plus the LoRA term with the dropout mask fused,
//   dx[m, k] = Σ_n g[m, n] · W[n, k]  +  s · keep(m·K + k) · Σ_j u[m, j] · A[j, k]
// g [M, N], W [N, K], u = g·B [M, R], A [R, K], s = (alpha/r)/(1 − p). 4×4 register tile per
// invocation; with K % 4 = 0 the columns are one vec4 (W and A rows are contiguous along K).
import { kernel, type Kernel } from '../kernel.ts';
import { DROP_HASH } from '../dropout/hash.ts';

export const LORA_DX_WG = [8, 8] as const;

export function loraDx(drop: boolean, vec4: boolean): Kernel {
  const ty = vec4 ? 'vec4<f32>' : 'f32';
  // acc[i] holds the 4 columns of row i as a vec4 in both variants
  const load = vec4
    ? (buf: string, row: string) => `${buf}[${row} * K4 + gid.x]`
    : (buf: string, row: string) =>
        `vec4<f32>(${buf}[${row} * p.K + cc[0]], ${buf}[${row} * p.K + cc[1]], ${buf}[${row} * p.K + cc[2]], ${buf}[${row} * p.K + cc[3]])`;
  return kernel(
    `lora_dx${drop ? '_drop' : ''}${vec4 ? '_vec4' : ''}`,
    /* wgsl */ `
struct P { M: u32, N: u32, K: u32, R: u32, seed: u32, thr: u32, s: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<${ty}>;
@group(0) @binding(3) var<storage, read> u: array<f32>;
@group(0) @binding(4) var<storage, read> a: array<${ty}>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
${DROP_HASH}
@compute @workgroup_size(${LORA_DX_WG[0]}, ${LORA_DX_WG[1]})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (row0 >= p.M || col0 >= p.K) { return; }
  let K4 = p.K / 4u;
  var rr: array<u32, 4>;
  var cc: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) { rr[i] = min(row0 + i, p.M - 1u); cc[i] = min(col0 + i, p.K - 1u); }
  var acc: array<vec4<f32>, 4>;
  for (var n = 0u; n < p.N; n++) {
    let bv = ${load('w', 'n')};
    for (var i = 0u; i < 4u; i++) { acc[i] = fma(vec4<f32>(g[rr[i] * p.N + n]), bv, acc[i]); }
  }
  var lo: array<vec4<f32>, 4>;
  for (var j = 0u; j < p.R; j++) {
    let bv = ${load('a', 'j')};
    for (var i = 0u; i < 4u; i++) { lo[i] = fma(vec4<f32>(u[rr[i] * p.R + j]), bv, lo[i]); }
  }
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + i;
    if (r >= p.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + j;
      if (c < p.K) {
        ${drop ? 'let keep = drop_keep(p.seed, r * p.K + c, p.thr);' : 'let keep = 1.0;'}
        dx[r * p.K + c] = acc[i][j] + p.s * keep * lo[i][j];
      }
    }
  }
}`,
    ['r', 'r', 'r', 'r', 'rw'],
  );
}
