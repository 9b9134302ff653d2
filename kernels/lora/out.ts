// The LoRA output in one kernel: base matmul plus the up-projection as an epilogue,
//   y[m, n] = Σ_k x[m, k] · W[n, k]  +  Σ_j t[m, j] · B[n, j]
// x [M, K], W [N, K], t [M, R] (already scaled), B [N, R]. Each invocation owns a 4×4 register
// tile (as kernels/matmul/generic.ts); with K % 4 = 0 the K loop reads x and W rows as vec4
// (both are contiguous along K), which is what lavapipe's SIMD wants.
import { kernel, type Kernel } from '../kernel.ts';

export const LORA_OUT_T = 4;
export const LORA_OUT_WG = [8, 8] as const;

export function loraOut(vec4: boolean): Kernel {
  const ty = vec4 ? 'vec4<f32>' : 'f32';
  const mainLoop = vec4
    ? `let K4 = p.K / 4u;
  for (var k = 0u; k < K4; k++) {
    var av: array<vec4<f32>, 4>;
    var bv: array<vec4<f32>, 4>;
    for (var i = 0u; i < 4u; i++) { av[i] = x[rr[i] * K4 + k]; bv[i] = w[cc[i] * K4 + k]; }
    for (var i = 0u; i < 4u; i++) {
      for (var j = 0u; j < 4u; j++) {
        // sequential fma in k order (not dot): bit-identical to the matmul kernel's base product
        var s = fma(av[i].x, bv[j].x, acc[i][j]);
        s = fma(av[i].y, bv[j].y, s);
        s = fma(av[i].z, bv[j].z, s);
        acc[i][j] = fma(av[i].w, bv[j].w, s);
      }
    }
  }`
    : `for (var k = 0u; k < p.K; k++) {
    var av: array<f32, 4>;
    var bv: array<f32, 4>;
    for (var i = 0u; i < 4u; i++) { av[i] = x[rr[i] * p.K + k]; bv[i] = w[cc[i] * p.K + k]; }
    for (var i = 0u; i < 4u; i++) {
      for (var j = 0u; j < 4u; j++) { acc[i][j] = fma(av[i], bv[j], acc[i][j]); }
    }
  }`;
  return kernel(
    `lora_out${vec4 ? '_vec4' : ''}`,
    /* wgsl */ `
struct P { M: u32, N: u32, K: u32, R: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<${ty}>;
@group(0) @binding(2) var<storage, read> w: array<${ty}>;
@group(0) @binding(3) var<storage, read> t: array<f32>;
@group(0) @binding(4) var<storage, read> b: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(${LORA_OUT_WG[0]}, ${LORA_OUT_WG[1]})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  if (row0 >= p.M || col0 >= p.N) { return; }
  // clamped indices: out-of-range rows/columns are computed but never written
  var rr: array<u32, 4>;
  var cc: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) { rr[i] = min(row0 + i, p.M - 1u); cc[i] = min(col0 + i, p.N - 1u); }
  var acc: array<array<f32, 4>, 4>;
  ${mainLoop}
  // epilogue: + t·Bᵀ (rank R)
  for (var k = 0u; k < p.R; k++) {
    var av: array<f32, 4>;
    var bv: array<f32, 4>;
    for (var i = 0u; i < 4u; i++) { av[i] = t[rr[i] * p.R + k]; bv[i] = b[cc[i] * p.R + k]; }
    for (var i = 0u; i < 4u; i++) {
      for (var j = 0u; j < 4u; j++) { acc[i][j] = fma(av[i], bv[j], acc[i][j]); }
    }
  }
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + i;
    if (r >= p.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + j;
      if (c < p.N) { y[r * p.N + c] = acc[i][j]; }
    }
  }
}`,
    ['r', 'r', 'r', 'r', 'rw'],
  );
}
