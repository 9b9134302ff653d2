// Materialising permute: out[i] = x[Σ_d coord_d(i) · xs_d], where xs are the input strides taken in
// output-axis order. Bits are copied as u32, so it serves f32, i32 and u32 tensors alike.
import { kernel, type Kernel } from '../kernel.ts';
import { memo } from './rows.ts';

export const PERMUTE_WG = 256;
export const PERMUTE_MAX_RANK = 8;

export const permuteKernel: Kernel = kernel(
  'permute',
  /* wgsl */ `
struct P { n: u32, rank: u32, _a: u32, _b: u32, shape: array<vec4<u32>, 2>, xs: array<vec4<u32>, 2> }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<u32>;
@compute @workgroup_size(${PERMUTE_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * ${PERMUTE_WG}u;
  if (i >= p.n) { return; }
  var rem = i;
  var src = 0u;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let dim = p.shape[d / 4][d % 4];
    src += (rem % dim) * p.xs[d / 4][d % 4];
    rem = rem / dim;
  }
  y[i] = x[src];
}`,
  ['r', 'rw'],
);

// Permute without per-element division, for permutes whose axes coalesce into at most four
// (engine/ops/coalesce.ts): the output is A0 × A1 blocks of R rows of W words, contiguous, and
//   y[((a0·A1 + a1)·R + r)·W + c] = x[a0·sA0 + a1·sA1 + r·sR + c·sC].
// A workgroup of LX × LY lanes covers PERMUTE_CK·LX columns × PERMUTE_RK·LY rows of one block
// (a0·A1 + a1 = workgroup z: one ÷ and % per lane, none per element). LX is the variant (4 … 64,
// the narrowest whose column block spans the row), so rows of 16 words still fill a workgroup and
// every lane moves PERMUTE_CK words of a row, instead of one workgroup per row. Consecutive lanes
// write consecutive words.
export const PERMUTE_TILE_LANES = 64;
export const PERMUTE_CK = 4;
export const PERMUTE_RK = 4;
export const PERMUTE_TILE_LX = [4, 8, 16, 32, 64] as const;
export type PermuteTileLx = (typeof PERMUTE_TILE_LX)[number];

/**
 * How the tile kernel moves words: 'word' one u32 per (row, column), any column stride; 'vec4' one
 * vec4 word (sC = 1: the innermost axis stays innermost); 'quad' a 4 × 4 block per (row, column)
 * (R and W count quads, sC is in vec4 words and sR is 1: a transpose whose output rows are the
 * input's contiguous axis), read as four vec4 input rows and written as four vec4 output rows,
 * transposed in registers: a quarter of the per-lane loads of 'word', which lavapipe pays per lane.
 */
export type PermuteTileMode = 'word' | 'vec4' | 'quad';

export function permuteTileKernel(lx: PermuteTileLx, mode: PermuteTileMode): Kernel {
  return memo(`permute${lx}${mode}`, () => permuteTileKernelOf(lx, mode));
}

function permuteTileKernelOf(lx: PermuteTileLx, mode: PermuteTileMode): Kernel {
  const ly = PERMUTE_TILE_LANES / lx;
  const t = mode === 'word' ? 'u32' : 'vec4<u32>';
  const move =
    mode === 'word'
      ? 'y[yr + c] = x[xr + c * p.sC];'
      : mode === 'vec4'
        ? 'y[yr + c] = x[xr + c];'
        : `let q0 = x[xr + 4u * c * p.sC];
        let q1 = x[xr + (4u * c + 1u) * p.sC];
        let q2 = x[xr + (4u * c + 2u) * p.sC];
        let q3 = x[xr + (4u * c + 3u) * p.sC];
        y[yr + c] = vec4<u32>(q0.x, q1.x, q2.x, q3.x);
        y[yr + p.W + c] = vec4<u32>(q0.y, q1.y, q2.y, q3.y);
        y[yr + 2u * p.W + c] = vec4<u32>(q0.z, q1.z, q2.z, q3.z);
        y[yr + 3u * p.W + c] = vec4<u32>(q0.w, q1.w, q2.w, q3.w);`;
  return kernel(
    `permute_tile${lx}${mode === 'word' ? '' : `_${mode}`}`,
    /* wgsl */ `
struct P { A1: u32, R: u32, W: u32, sA0: u32, sA1: u32, sR: u32, sC: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<${t}>;
@group(0) @binding(2) var<storage, read_write> y: array<${t}>;
@compute @workgroup_size(${lx}, ${ly})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let a = wid.z;
  let xa = (a / p.A1) * p.sA0 + (a % p.A1) * p.sA1;
  let c0 = wid.x * ${PERMUTE_CK * lx}u + lid.x;
  for (var i = 0u; i < ${PERMUTE_RK}u; i++) {
    let r = wid.y * ${PERMUTE_RK * ly}u + i * ${ly}u + lid.y;
    if (r >= p.R) { return; }
    let xr = xa + r * p.sR;
    let yr = (a * p.R + r) * ${mode === 'quad' ? '4u * ' : ''}p.W;
    for (var k = 0u; k < ${PERMUTE_CK}u; k++) {
      let c = c0 + k * ${lx}u;
      if (c < p.W) {
        ${move}
      }
    }
  }
}`,
    ['r', 'rw'],
  );
}

/** The narrowest variant whose column block (PERMUTE_CK·LX words) spans a row of W words (64 past 256). */
export function permuteTileLx(W: number): PermuteTileLx {
  return PERMUTE_TILE_LX.find((lx) => PERMUTE_CK * lx >= W) ?? 64;
}

/** Grid of the tile kernel over A (= A0·A1) blocks of R rows of W words, or null past 65,535 on an axis. */
export function permuteTileGrid(A: number, R: number, W: number, lx: PermuteTileLx): [number, number, number] | null {
  const g: [number, number, number] = [Math.ceil(W / (PERMUTE_CK * lx)), Math.ceil(R / (PERMUTE_RK * (PERMUTE_TILE_LANES / lx))), A];
  return g.every((v) => v <= 65535) ? g : null;
}
