// Knowledge-distillation binary CE on a cosine (paper eq. 4, §3.5), fused: one invocation per pair
// computes ⟨q, p⟩, |q|, |p|, c, z = s·c and the BCE-with-logits in one pass over D; the backward
// recomputes the same row statistics and writes dq and dp. Math: engine/losses/kd-bce.ts.
import { kernel } from '../kernel.ts';

export const KD_WG = 64;

// Row statistics shared by both directions: dot, clamped norms (eps 1e-8 as torch's cosine).
const HEAD = /* wgsl */ `
struct P { B: u32, D: u32, s: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> d: array<f32>;
@group(0) @binding(3) var<storage, read> teacher: array<f32>;
const EPS = 1e-8;
struct Row { dot: f32, nq: f32, nd: f32, c: f32 }
fn rowStats(i: u32) -> Row {
  var dt = 0.0;
  var qq = 0.0;
  var dd = 0.0;
  let b = i * p.D;
  for (var k = 0u; k < p.D; k++) {
    let a = q[b + k];
    let e = d[b + k];
    dt = fma(a, e, dt);
    qq = fma(a, a, qq);
    dd = fma(e, e, dd);
  }
  let nq = max(sqrt(qq), EPS);
  let nd = max(sqrt(dd), EPS);
  return Row(dt, nq, nd, dt / (nq * nd));
}
fn rowIndex(gid: vec3<u32>, nw: vec3<u32>) -> u32 { return gid.x + gid.y * nw.x * ${KD_WG}u; }
`;

/** stats[i] = (softplus(z) − t·z, 1) with z = s·cos(q_i, p_i): the BCE of σ(z) against t. */
export const kdBceForward = kernel(
  'kd_bce_fwd',
  HEAD +
    /* wgsl */ `
@group(0) @binding(4) var<storage, read_write> stats: array<vec2<f32>>;
@compute @workgroup_size(${KD_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = rowIndex(gid, nw);
  if (i >= p.B) { return; }
  let z = p.s * rowStats(i).c;
  // −[t·log σ(z) + (1−t)·log(1−σ(z))] = softplus(z) − t·z, stable for any z
  let sp = max(z, 0.0) + log(1.0 + exp(-abs(z)));
  stats[i] = vec2<f32>(sp - teacher[i] * z, 1.0);
}`,
  ['r', 'r', 'r', 'rw'],
);

/** dq_i = k·(p_i/(|q||p|) − c·q_i/|q|²), dp_i likewise, k = g·s·(σ(z) − t)/norm. */
export const kdBceBackward = kernel(
  'kd_bce_bwd',
  HEAD +
    /* wgsl */ `
@group(0) @binding(4) var<storage, read> g: array<f32>;
@group(0) @binding(5) var<storage, read> norm: array<f32>;
@group(0) @binding(6) var<storage, read_write> dq: array<f32>;
@group(0) @binding(7) var<storage, read_write> dd: array<f32>;
@compute @workgroup_size(${KD_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = rowIndex(gid, nw);
  if (i >= p.B) { return; }
  let r = rowStats(i);
  let z = p.s * r.c;
  let k = g[0] * p.s * (1.0 / (1.0 + exp(-z)) - teacher[i]) / norm[0];
  let inv = 1.0 / (r.nq * r.nd);
  // a norm clamped at EPS is a constant: its term in the derivative vanishes
  let cq = select(0.0, r.c / (r.nq * r.nq), r.nq > EPS);
  let cd = select(0.0, r.c / (r.nd * r.nd), r.nd > EPS);
  let b = i * p.D;
  for (var j = 0u; j < p.D; j++) {
    let a = q[b + j];
    let e = d[b + j];
    dq[b + j] = k * (e * inv - cq * a);
    dd[b + j] = k * (a * inv - cd * e);
  }
}`,
  ['r', 'r', 'r', 'r', 'r', 'rw', 'rw'],
);
