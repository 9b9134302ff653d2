// The classic shared-memory matmul for hardware GPUs: a 16×16 workgroup computes a 16×16 tile of
// C, one element per invocation, staging 16×16 tiles of op(A) and op(B) in workgroup memory so each
// global value is read once per workgroup instead of 16 times. Out-of-range tile entries load 0.
// (On CPU adapters barriers and workgroup memory are pure overhead: see register.ts.)
import { kernel, type Kernel } from '../kernel.ts';

export const TILE = 16;

export function matmulTiled(transA: boolean, transB: boolean): Kernel {
  // op(A)[r, k] and op(B)[k, c] with clamped indices (the select below zeroes them when out of range)
  const a = transA ? 'a[bA + min(k, p.K - 1u) * p.M + min(r, p.M - 1u)]' : 'a[bA + min(r, p.M - 1u) * p.K + min(k, p.K - 1u)]';
  const b = transB ? 'b[bB + min(cc, p.N - 1u) * p.K + min(k, p.K - 1u)]' : 'b[bB + min(k, p.K - 1u) * p.N + min(cc, p.N - 1u)]';
  return kernel(
    `matmul_tiled_${transA ? 't' : 'n'}${transB ? 't' : 'n'}`,
    /* wgsl */ `
struct P { M: u32, N: u32, K: u32, sA: u32, sB: u32, sC: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
var<workgroup> As: array<array<f32, ${TILE}>, ${TILE}>;
var<workgroup> Bs: array<array<f32, ${TILE}>, ${TILE}>;
fn ldA(bA: u32, r: u32, k: u32) -> f32 { return select(0.0, ${a}, r < p.M && k < p.K); }
fn ldB(bB: u32, k: u32, cc: u32) -> f32 { return select(0.0, ${b}, k < p.K && cc < p.N); }
@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wid.y * ${TILE}u + lid.y;
  let col = wid.x * ${TILE}u + lid.x;
  let bA = wid.z * p.sA;
  let bB = wid.z * p.sB;
  var acc = 0.0;
  let tiles = (p.K + ${TILE - 1}u) / ${TILE}u;
  for (var t = 0u; t < tiles; t++) {
    let k0 = t * ${TILE}u;
    As[lid.y][lid.x] = ldA(bA, row, k0 + lid.x);
    Bs[lid.y][lid.x] = ldB(bB, k0 + lid.y, col);
    workgroupBarrier();
    for (var kk = 0u; kk < ${TILE}u; kk++) { acc = fma(As[lid.y][kk], Bs[kk][lid.x], acc); }
    workgroupBarrier();
  }
  if (row < p.M && col < p.N) { c[wid.z * p.sC + row * p.N + col] = acc; }
}`,
    ['r', 'r', 'rw'],
  );
}
