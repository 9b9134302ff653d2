// Elementwise kernels. Two shapes of kernel:
//  - vec4: operands are the output's full shape, a suffix of it (bias-like, repeated with period
//    `n4b`) or a scalar; 4 elements per load, VPT vec4 per invocation, grid-stride so neighbouring
//    invocations touch neighbouring memory (coalesced on GPUs, SIMD-friendly on lavapipe);
//  - strided: any broadcast, one element per invocation, index arithmetic from uniform strides.
import { kernel, type Kernel, memoKernel } from '../kernel.ts';
import { BINARY, PRELUDE, UNARY } from './exprs.ts';

export type Mode = 'full' | 'suffix' | 'scalar';
export const VPT = 4; // vec4 per invocation
export const WG = 256;

function load(name: string, mode: Mode, periodField: string): string {
  if (mode === 'full') return `${name}[i]`;
  if (mode === 'scalar') return `vec4<f32>(${name}[0].x)`;
  return `${name}[i % p.${periodField}]`;
}

/** y = f(a) over vec4s; p.n4 = vec4 count of the output. */
export const unaryVec4 = memoKernel(function unaryVec4(op: string): Kernel {
  const expr = UNARY[op];
  if (!expr) throw new Error(`unknown unary op ${op}`);
  return kernel(
    `unary_${op}`,
    /* wgsl */ `
struct P { n4: u32, s: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<vec4<f32>>;
${PRELUDE}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = gid.x + gid.y * nw.x * ${WG}u;
  let stride = nw.x * nw.y * ${WG}u;
  for (var j = 0u; j < ${VPT}u; j++) {
    let i = t + j * stride;
    if (i < p.n4) { let a = x[i]; y[i] = ${expr}; }
  }
}`,
    ['r', 'rw'],
  );
});

/** y = f(a, b) over vec4s with a/b each full, suffix-periodic or scalar. */
export const binaryVec4 = memoKernel(function binaryVec4(op: string, ma: Mode, mb: Mode): Kernel {
  const expr = BINARY[op];
  if (!expr) throw new Error(`unknown binary op ${op}`);
  return kernel(
    `binary_${op}_${ma}_${mb}`,
    /* wgsl */ `
struct P { n4: u32, pa: u32, pb: u32, s: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> xa: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> xb: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4<f32>>;
${PRELUDE}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = gid.x + gid.y * nw.x * ${WG}u;
  let stride = nw.x * nw.y * ${WG}u;
  for (var j = 0u; j < ${VPT}u; j++) {
    let i = t + j * stride;
    if (i < p.n4) {
      let a = ${load('xa', ma, 'pa')};
      let b = ${load('xb', mb, 'pb')};
      y[i] = ${expr};
    }
  }
}`,
    ['r', 'r', 'rw'],
  );
});

export const MAX_RANK = 8;

/** y = f(a, b) with arbitrary broadcasting: strides of a and b are 0 on broadcast axes. */
export const binaryStrided = memoKernel(function binaryStrided(op: string): Kernel {
  const expr = BINARY[op];
  if (!expr) throw new Error(`unknown binary op ${op}`);
  return kernel(
    `binary_${op}_strided`,
    /* wgsl */ `
struct P { n: u32, rank: u32, s: f32, _pad: u32, shape: array<vec4<u32>, 2>, sa: array<vec4<u32>, 2>, sb: array<vec4<u32>, 2> }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> xa: array<f32>;
@group(0) @binding(2) var<storage, read> xb: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
${PRELUDE}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * ${WG}u;
  if (i >= p.n) { return; }
  var rem = i;
  var ia = 0u;
  var ib = 0u;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let dim = p.shape[d / 4][d % 4];
    let c = rem % dim;
    rem = rem / dim;
    ia += c * p.sa[d / 4][d % 4];
    ib += c * p.sb[d / 4][d % 4];
  }
  let a = vec4<f32>(xa[ia]);
  let b = vec4<f32>(xb[ib]);
  y[i] = (${expr}).x;
}`,
    ['r', 'r', 'rw'],
  );
});
