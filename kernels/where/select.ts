// y = cond ? a : b with numpy broadcasting of all three (strides are 0 on broadcast axes).
// The condition is read as 32-bit words: any non-zero i32/u32 is true; for an f32 mask the sign bit
// is ignored so that −0.0 counts as false, as it does in the float64 reference.
import { kernel, type Kernel } from '../kernel.ts';
import { memo, rowsMain } from '../shape/rows.ts';

export const WHERE_WG = 256;
export const WHERE_MAX_RANK = 8;

export function whereKernel(condIsFloat: boolean): Kernel {
  const truth = condIsFloat ? '(cb & 0x7fffffffu) != 0u' : 'cb != 0u';
  return kernel(
    `where_${condIsFloat ? 'fmask' : 'imask'}`,
    /* wgsl */ `
struct P { n: u32, rank: u32, _a: u32, _b: u32, shape: array<vec4<u32>, 2>, sc: array<vec4<u32>, 2>, sa: array<vec4<u32>, 2>, sb: array<vec4<u32>, 2> }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> cond: array<u32>;
@group(0) @binding(2) var<storage, read> a: array<f32>;
@group(0) @binding(3) var<storage, read> b: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(${WHERE_WG})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * ${WHERE_WG}u;
  if (i >= p.n) { return; }
  var rem = i;
  var ic = 0u;
  var ia = 0u;
  var ib = 0u;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let dim = p.shape[d / 4][d % 4];
    let c = rem % dim;
    rem = rem / dim;
    ic += c * p.sc[d / 4][d % 4];
    ia += c * p.sa[d / 4][d % 4];
    ib += c * p.sb[d / 4][d % 4];
  }
  let cb = cond[ic];
  y[i] = select(b[ib], a[ia], ${truth});
}`,
    ['r', 'r', 'r', 'rw'],
  );
}

/** The condition word(s) `cb` read as true: non-zero, or for an f32 mask non-zero but for the sign bit. */
function truthOf(condIsFloat: boolean, v: boolean): string {
  if (condIsFloat) return v ? '(cb & vec4<u32>(0x7fffffffu)) != vec4<u32>(0u)' : '(cb & 0x7fffffffu) != 0u';
  return v ? 'cb != vec4<u32>(0u)' : 'cb != 0u';
}

/** A row kernel's operand at (r, c): scalar (row and column strides), or with vec4 lanes along the row, or one value per row splatted. */
function operandAt(v: boolean): (name: string, along: boolean, rs: string, cs: string, splat: string) => string {
  return (name, along, rs, cs, splat) => (!v ? `${name}[r * p.${rs} + c * p.${cs}]` : along ? `${name}[r * p.${rs} + c]` : `${splat}(${name}[r * p.${rs}])`);
}

/**
 * The same select over R rows of W outputs, each operand addressed as r·(row stride) + c·(column
 * stride): any broadcast whose axes coalesce into at most two (engine/ops/where.ts) runs without the
 * per-element ÷/% walk over the shape above. Grid as kernels/shape/rows.ts (`rowsGrid`).
 * With `vec` (column strides 0 or 1, W % 4 = 0, the row strides of stride-1 operands % 4 = 0) a lane
 * moves vec4s: vec[k] says operand k (cond, a, b) runs along the row (vec4 loads, row stride and W in
 * vec4 units) rather than repeating one value per row (a scalar splat).
 */
export function whereRowsKernel(condIsFloat: boolean, vec: readonly [boolean, boolean, boolean] | null): Kernel {
  return memo(`where${condIsFloat}${vec}`, () => whereRowsKernelOf(condIsFloat, vec));
}
function whereRowsKernelOf(condIsFloat: boolean, vec: readonly [boolean, boolean, boolean] | null): Kernel {
  const v = vec !== null;
  const [cv, av, bv] = vec ?? [false, false, false];
  const truth = truthOf(condIsFloat, v);
  // an operand along the row: vec4 at r·rs + c; a per-row value: the scalar at r·rs, splatted
  const at = operandAt(v);
  return kernel(
    `where_rows_${condIsFloat ? 'fmask' : 'imask'}${v ? `_v${+cv}${+av}${+bv}` : ''}`,
    /* wgsl */ `
struct P { R: u32, W: u32, cr: u32, cc: u32, ar: u32, ac: u32, br: u32, bc: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> cond: array<${cv ? 'vec4<u32>' : 'u32'}>;
@group(0) @binding(2) var<storage, read> a: array<${av ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(3) var<storage, read> b: array<${bv ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(4) var<storage, read_write> y: array<${v ? 'vec4<f32>' : 'f32'}>;
${rowsMain(`
        let cb = ${at('cond', cv, 'cr', 'cc', 'vec4<u32>')};
        y[r * p.W + c] = select(${at('b', bv, 'br', 'bc', 'vec4<f32>')}, ${at('a', av, 'ar', 'ac', 'vec4<f32>')}, ${truth});`)}`,
    ['r', 'r', 'r', 'rw'],
  );
}

/**
 * maskedFill over rows: y = cond ? value : x with `value` a uniform (no operand buffer to load from
 * and no fill launch), cond and x addressed as in whereRowsKernel; with `vec` [cond along the row,
 * x along the row] a lane moves vec4s. Lavapipe, 2048 × 768, mask [768]: the where form (value as a
 * one-element operand) took 1,864 µs of GPU time per call plus a 67 µs fill.
 */
export function fillRowsKernel(condIsFloat: boolean, vec: readonly [boolean, boolean] | null): Kernel {
  return memo(`fill${condIsFloat}${vec}`, () => fillRowsKernelOf(condIsFloat, vec));
}
function fillRowsKernelOf(condIsFloat: boolean, vec: readonly [boolean, boolean] | null): Kernel {
  const v = vec !== null;
  const [cv, xv] = vec ?? [false, false];
  const truth = truthOf(condIsFloat, v);
  const at = operandAt(v);
  return kernel(
    `masked_fill_rows_${condIsFloat ? 'fmask' : 'imask'}${v ? `_v${+cv}${+xv}` : ''}`,
    /* wgsl */ `
struct P { R: u32, W: u32, cr: u32, cc: u32, xr: u32, xc: u32, value: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> cond: array<${cv ? 'vec4<u32>' : 'u32'}>;
@group(0) @binding(2) var<storage, read> x: array<${xv ? 'vec4<f32>' : 'f32'}>;
@group(0) @binding(3) var<storage, read_write> y: array<${v ? 'vec4<f32>' : 'f32'}>;
${rowsMain(`
        let cb = ${at('cond', cv, 'cr', 'cc', 'vec4<u32>')};
        y[r * p.W + c] = select(${at('x', xv, 'xr', 'xc', 'vec4<f32>')}, ${v ? 'vec4<f32>(p.value)' : 'p.value'}, ${truth});`)}`,
    ['r', 'r', 'rw'],
  );
}
