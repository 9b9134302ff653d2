// Batched matmul C[b] = op(A[b]) · op(B[b]), any transposes, any sizes: each invocation owns a
// TM×TN register tile and reads operands with scalar loads through layout-specialised helpers.
// The baseline every faster variant is checked against; bounds are handled by clamped reads and
// guarded writes.
import { kernel, type Kernel } from '../kernel.ts';

export const GENERIC_TM = 4;
export const GENERIC_TN = 4;
export const GENERIC_WG = [8, 8] as const;

export function matmulGeneric(transA: boolean, transB: boolean): Kernel {
  const TM = GENERIC_TM;
  const TN = GENERIC_TN;
  const a = transA ? 'a[p.offA + bA + k * p.M + r]' : 'a[p.offA + bA + r * p.K + k]';
  const b = transB ? 'b[p.offB + bB + c * p.K + k]' : 'b[p.offB + bB + k * p.N + c]';
  return kernel(
    `matmul_generic_${transA ? 't' : 'n'}${transB ? 't' : 'n'}`,
    /* wgsl */ `
struct P { M: u32, N: u32, K: u32, sA: u32, sB: u32, sC: u32, offA: u32, offB: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
fn ldA(bA: u32, r0: u32, k: u32) -> f32 { let r = min(r0, p.M - 1u); return ${a}; }
fn ldB(bB: u32, k: u32, c0: u32) -> f32 { let c = min(c0, p.N - 1u); return ${b}; }
@compute @workgroup_size(${GENERIC_WG[0]}, ${GENERIC_WG[1]})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let batch = gid.z;
  let row0 = gid.y * ${TM}u;
  let col0 = gid.x * ${TN}u;
  if (row0 >= p.M || col0 >= p.N) { return; }
  let bA = batch * p.sA;
  let bB = batch * p.sB;
  var acc: array<array<f32, ${TN}>, ${TM}>;
  for (var k = 0u; k < p.K; k++) {
    var av: array<f32, ${TM}>;
    var bv: array<f32, ${TN}>;
    for (var i = 0u; i < ${TM}u; i++) { av[i] = ldA(bA, row0 + i, k); }
    for (var j = 0u; j < ${TN}u; j++) { bv[j] = ldB(bB, k, col0 + j); }
    for (var i = 0u; i < ${TM}u; i++) {
      for (var j = 0u; j < ${TN}u; j++) { acc[i][j] = fma(av[i], bv[j], acc[i][j]); }
    }
  }
  for (var i = 0u; i < ${TM}u; i++) {
    let r = row0 + i;
    if (r >= p.M) { break; }
    for (var j = 0u; j < ${TN}u; j++) {
      let cc = col0 + j;
      if (cc < p.N) { c[batch * p.sC + r * p.N + cc] = acc[i][j]; }
    }
  }
}`,
    ['r', 'r', 'rw'],
  );
}
