// Copies along one axis of a tensor viewed as [outer, len, inner] (bits as u32, any 4-byte dtype).
//  slice: y[o, l, c] = x[o, start + l, c]                        (y is [outer, olen, inner])
//  pad:   y[o, l, c] = start ≤ l < start + glen ? g[o, l − start, c] : 0   (slice's backward)
//  place: y[o, off + l, c] = x[o, l, c]       (one launch per concat input; y is [outer, tlen, inner])
import { kernel, type Kernel } from '../kernel.ts';

export const WINDOW_WG = 256;
const HEAD = (wg: number) => `
@compute @workgroup_size(${wg})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * ${wg}u;`;

export const sliceKernel: Kernel = kernel(
  'slice',
  /* wgsl */ `
struct P { n: u32, inner: u32, len: u32, olen: u32, start: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<u32>;
${HEAD(WINDOW_WG)}
  if (i >= p.n) { return; }
  let c = i % p.inner;
  let t = i / p.inner;
  let l = t % p.olen;
  let o = t / p.olen;
  y[i] = x[(o * p.len + p.start + l) * p.inner + c];
}`,
  ['r', 'rw'],
);

export const padKernel: Kernel = kernel(
  'slice_pad',
  /* wgsl */ `
struct P { n: u32, inner: u32, len: u32, glen: u32, start: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> g: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<u32>;
${HEAD(WINDOW_WG)}
  if (i >= p.n) { return; }
  let c = i % p.inner;
  let t = i / p.inner;
  let l = t % p.len;
  let o = t / p.len;
  var v = 0u; // bits of 0.0
  if (l >= p.start && l < p.start + p.glen) { v = g[(o * p.glen + l - p.start) * p.inner + c]; }
  y[i] = v;
}`,
  ['r', 'rw'],
);

export const placeKernel: Kernel = kernel(
  'concat_place',
  /* wgsl */ `
struct P { n: u32, inner: u32, len: u32, tlen: u32, off: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<u32>;
${HEAD(WINDOW_WG)}
  if (i >= p.n) { return; }
  let c = i % p.inner;
  let t = i / p.inner;
  let l = t % p.len;
  let o = t / p.len;
  y[(o * p.tlen + p.off + l) * p.inner + c] = x[i];
}`,
  ['r', 'rw'],
);
