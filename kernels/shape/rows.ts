// Row-wise copies of 32-bit words without per-element index division (lavapipe has no SIMD integer
// division: window.ts's ÷ and % per element cost 10–30× the copy). A window op along one axis of a
// tensor viewed as [outer, len, inner] moves `outer` contiguous runs, so it is R rows of W words:
//   copy: y[B + r·T + c] = x[A + r·S + c]                           (r < R, c < W)
//   pad:  y[r·W + c] = lo ≤ c < hi ? g[r·S + c − lo] : 0            (a slice's backward: whole rows)
// Workgroups tile (column blocks × rows); rows fold into the grid's z past 65,535 and column blocks
// loop past 65,535 × ROWS_SPAN. Consecutive lanes touch consecutive words.
import { kernel, type Kernel } from '../kernel.ts';

export const ROWS_WG = 64;
/** Words of one row a workgroup covers per column block (each lane 4, ROWS_WG apart). */
export const ROWS_SPAN = 4 * ROWS_WG;

/** The entry point of a row kernel: BODY runs for each (row r, column c) of p.R × p.W. */
export function rowsMain(body: string): string {
  return MAIN.replace('BODY', body);
}

const MAIN = `
@compute @workgroup_size(${ROWS_WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let r = wid.y + wid.z * nw.y;
  if (r >= p.R) { return; }
  for (var c0 = wid.x * ${ROWS_SPAN}u + lid.x; c0 < p.W; c0 += nw.x * ${ROWS_SPAN}u) {
    for (var k = 0u; k < 4u; k++) {
      let c = c0 + k * ${ROWS_WG}u;
      if (c < p.W) { BODY }
    }
  }
}`;

const made = new Map<string, Kernel>();
/** One Kernel object per variant (its WGSL is built once). */
export function memo(key: string, make: () => Kernel): Kernel {
  let k = made.get(key);
  if (!k) made.set(key, (k = make()));
  return k;
}

/** Row copy of words, or with `vec` of vec4 words (every length and offset in vec4 units). */
export function rowsCopyKernel(vec: boolean): Kernel {
  return memo(`copy${vec}`, () => rowsCopyKernelOf(vec));
}
function rowsCopyKernelOf(vec: boolean): Kernel {
  const t = vec ? 'vec4<u32>' : 'u32';
  return kernel(
    vec ? 'rows_copy_v4' : 'rows_copy',
    /* wgsl */ `
struct P { R: u32, W: u32, S: u32, A: u32, T: u32, B: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<${t}>;
@group(0) @binding(2) var<storage, read_write> y: array<${t}>;
${rowsMain('y[p.B + r * p.T + c] = x[p.A + r * p.S + c];')}`,
    ['r', 'rw'],
  );
}

/** Row pad of words, or with `vec` of vec4 words (every length and bound in vec4 units). */
export function rowsPadKernel(vec: boolean): Kernel {
  return memo(`pad${vec}`, () => rowsPadKernelOf(vec));
}
function rowsPadKernelOf(vec: boolean): Kernel {
  const t = vec ? 'vec4<u32>' : 'u32';
  return kernel(
    vec ? 'rows_pad_v4' : 'rows_pad',
    /* wgsl */ `
struct P { R: u32, W: u32, S: u32, lo: u32, hi: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> g: array<${t}>;
@group(0) @binding(2) var<storage, read_write> y: array<${t}>;
${rowsMain(`var v = ${t}(0u); if (c >= p.lo && c < p.hi) { v = g[r * p.S + c - p.lo]; } y[r * p.W + c] = v;`)}`,
    ['r', 'rw'],
  );
}

/** Grid of R rows of W words: column blocks on x, rows on y (folded into z past 65,535). */
export function rowsGrid(R: number, W: number): [number, number, number] {
  const max = 65535;
  const x = Math.min(max, Math.max(1, Math.ceil(W / ROWS_SPAN)));
  const z = Math.ceil(R / max);
  return [x, Math.ceil(R / z), z];
}
