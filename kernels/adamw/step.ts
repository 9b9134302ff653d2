// Fused AdamW step (Loshchilov & Hutter 2019, PyTorch's torch.optim.AdamW) over up to `k`
// parameters per launch. Each parameter slot s binds p, g, m, v; the slots are laid end to end in
// one flat vec4 index space (p.e_s = end of slot s), so one dispatch updates them all:
//   p ← p·(1 − lr·wd)                       decoupled weight decay
//   m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
//   p ← p − lr · (m / bc1) / (√(v / bc2) + eps),   bc1 = 1 − β1^t, bc2 = 1 − β2^t
// Tails: a parameter of n elements is processed as ⌈n/4⌉ vec4; the lanes past n live in the
// pooled buffer's slack and are never read as data.
import { kernel, type Access, type Kernel, memoKernel } from '../kernel.ts';

export const ADAMW_WG = 256;
export const ADAMW_VPT = 4;

export const adamwStep = memoKernel(function adamwStep(k: number): Kernel {
  const slots = Array.from({ length: k }, (_, s) => s);
  const decl = slots
    .map(
      (s) => `@group(0) @binding(${1 + 4 * s}) var<storage, read_write> p${s}: array<vec4<f32>>;
@group(0) @binding(${2 + 4 * s}) var<storage, read> g${s}: array<vec4<f32>>;
@group(0) @binding(${3 + 4 * s}) var<storage, read_write> m${s}: array<vec4<f32>>;
@group(0) @binding(${4 + 4 * s}) var<storage, read_write> v${s}: array<vec4<f32>>;`,
    )
    .join('\n');
  const body = slots
    .map(
      (s) => `${s ? 'else ' : ''}if (i < u.e${s}) {
      let q = i${s ? ` - u.e${s - 1}` : ''};
      let o = adamw(p${s}[q], g${s}[q], m${s}[q], v${s}[q]);
      p${s}[q] = o.p; m${s}[q] = o.m; v${s}[q] = o.v;
    }`,
    )
    .join(' ');
  const bindings: Access[] = slots.flatMap(() => ['rw', 'r', 'rw', 'rw'] as Access[]);
  return kernel(
    `adamw_step_${k}`,
    /* wgsl */ `
// c1 = 1 − β1, c2 = 1 − β2, decay = 1 − lr·wd come from the host in float64: 1 − 0.999 formed in
// f32 would be off by 1e-5 relative, and v with it.
struct P { lr: f32, b1: f32, b2: f32, eps: f32, c1: f32, c2: f32, decay: f32, bc1: f32, bc2: f32, ${slots.map((s) => `e${s}: u32`).join(', ')} }
@group(0) @binding(0) var<uniform> u: P;
${decl}
struct Upd { p: vec4<f32>, m: vec4<f32>, v: vec4<f32> }
fn adamw(p0: vec4<f32>, g: vec4<f32>, m0: vec4<f32>, v0: vec4<f32>) -> Upd {
  let pd = p0 * u.decay;
  let m = u.b1 * m0 + u.c1 * g;
  let v = u.b2 * v0 + u.c2 * g * g;
  let p = pd - u.lr * (m / u.bc1) / (sqrt(v / u.bc2) + u.eps);
  return Upd(p, m, v);
}
@compute @workgroup_size(${ADAMW_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = gid.x + gid.y * nw.x * ${ADAMW_WG}u;
  let stride = nw.x * nw.y * ${ADAMW_WG}u;
  for (var j = 0u; j < ${ADAMW_VPT}u; j++) {
    let i = t + j * stride;
    ${body}
  }
}`,
    bindings,
  );
});
