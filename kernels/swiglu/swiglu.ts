// SwiGLU (Shazeer 2020): y = silu(gate) ⊙ up, silu(a) = a·σ(a). Forward and a fused backward that
// writes both gradients in one pass:
//   d gate = dy ⊙ up ⊙ σ(a)(1 + a(1 − σ(a))),   d up = dy ⊙ silu(a).
import { kernel } from '../kernel.ts';

export const SWIGLU_WG = 256;
export const SWIGLU_VPT = 4;

/** σ on vec4, shared with the matmul epilogue that fuses the forward (kernels/matmul/broadcast.ts `swiglu`): one expression, the same bits. */
export const SWIGLU_SIGM = 'fn sigm(a: vec4<f32>) -> vec4<f32> { return 1.0 / (1.0 + exp(-a)); }';
const SIGM = SWIGLU_SIGM;
const HEAD = (wg: number) => `@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = gid.x + gid.y * nw.x * ${wg}u;
  let stride = nw.x * nw.y * ${wg}u;`;

export const swigluFwdKernel = kernel(
  'swiglu_fwd',
  /* wgsl */ `
struct P { n4: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> gate: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> up: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4<f32>>;
${SIGM}
${HEAD(SWIGLU_WG)}
  for (var j = 0u; j < ${SWIGLU_VPT}u; j++) {
    let i = t + j * stride;
    if (i < p.n4) { let a = gate[i]; y[i] = a * sigm(a) * up[i]; }
  }
}`,
  ['r', 'r', 'rw'],
);

export const swigluBwdKernel = kernel(
  'swiglu_bwd',
  /* wgsl */ `
struct P { n4: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> gate: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> up: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> dgate: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> dup: array<vec4<f32>>;
${SIGM}
${HEAD(SWIGLU_WG)}
  for (var j = 0u; j < ${SWIGLU_VPT}u; j++) {
    let i = t + j * stride;
    if (i < p.n4) {
      let a = gate[i];
      let s = sigm(a);
      let g = dy[i];
      dgate[i] = g * up[i] * s * (1.0 + a * (1.0 - s));
      dup[i] = g * a * s;
    }
  }
}`,
  ['r', 'r', 'r', 'rw', 'rw'],
);
