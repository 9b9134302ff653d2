// WGSL spellings of Dawn's experimental subgroup-matrix builtins (chromium_experimental_subgroup_matrix).
// Tint changed the load/store signature in 2026: the older form passes the layout as a bool argument,
//   subgroupMatrixLoad<T>(ptr, offset, colMajor, stride)      subgroupMatrixStore(ptr, offset, m, colMajor, stride)
// the newer one as a template argument,
//   subgroupMatrixLoad<T, col_major>(ptr, offset, stride)     subgroupMatrixStore<col_major>(ptr, offset, m, stride)
// and a Dawn in between took the new load with the old store. The engine compiles a probe of each
// (engine/subgroup-matrix.ts) and generates kernels in the one this Dawn accepts.

// Tint also requires the pointer/offset arguments to be uniform; a subgroup's own offset (from its
// index in the workgroup) is only subgroup-uniform, which Tint accepts either with the
// subgroup_uniformity diagnostic off ('local': index = local_invocation_index / subgroup size) or
// from the subgroup_id builtin ('builtin').
export interface SubgroupMatrixSyntax {
  load: 'flag' | 'template';
  store: 'flag' | 'template';
  index: 'local' | 'builtin';
}

/** Every spelling, in the order the probe tries them (newest first). */
export const SUBGROUP_MATRIX_SYNTAXES: readonly SubgroupMatrixSyntax[] = (['local', 'builtin'] as const).flatMap((index) =>
  (
    [
      ['template', 'template'],
      ['flag', 'flag'],
      ['template', 'flag'],
      ['flag', 'template'],
    ] as const
  ).map(([load, store]) => ({ load, store, index })),
);

/** The module header: extensions and the uniformity rule (see SubgroupMatrixSyntax). */
export function sgmHeader(s: SubgroupMatrixSyntax): string {
  return `enable f16;
${s.index === 'builtin' ? 'enable subgroups;\n' : ''}enable chromium_experimental_subgroup_matrix;
diagnostic(off, subgroup_uniformity);`;
}

/** Entry-point parameters that give \`sgi\` (subgroup index in the workgroup) and \`lane\`, and the lets. */
export function sgmIndex(s: SubgroupMatrixSyntax, sg: number): { params: string; lets: string } {
  return s.index === 'builtin'
    ? { params: '@builtin(subgroup_id) sgid: u32, @builtin(subgroup_invocation_id) sglane: u32', lets: 'let sgi = sgid;\n  let lane = sglane;' }
    : { params: '', lets: `let sgi = li / ${sg}u;\n  let lane = li % ${sg}u;` };
}

const major = (colMajor: boolean) => (colMajor ? 'col_major' : 'row_major');

/** `subgroupMatrixLoad` of matrix type `type` from pointer expression `ptr` (elements, u32 offset/stride). */
export function sgmLoad(s: SubgroupMatrixSyntax, type: string, ptr: string, offset: string, colMajor: boolean, stride: string): string {
  return s.load === 'template'
    ? `subgroupMatrixLoad<${type}, ${major(colMajor)}>(${ptr}, ${offset}, ${stride})`
    : `subgroupMatrixLoad<${type}>(${ptr}, ${offset}, ${colMajor}, ${stride})`;
}

/** `subgroupMatrixStore` of matrix `value` to pointer expression `ptr`. */
export function sgmStore(s: SubgroupMatrixSyntax, ptr: string, offset: string, value: string, colMajor: boolean, stride: string): string {
  return s.store === 'template'
    ? `subgroupMatrixStore<${major(colMajor)}>(${ptr}, ${offset}, ${value}, ${stride})`
    : `subgroupMatrixStore(${ptr}, ${offset}, ${value}, ${colMajor}, ${stride})`;
}

/** The smallest shader that uses a load, a multiply-accumulate and a store in syntax `s` (f16 in, f32 out). */
export function subgroupMatrixProbeSource(s: SubgroupMatrixSyntax, c: { M: number; N: number; K: number }, wg: number): string {
  const L = `subgroup_matrix_left<f16, ${c.K}, ${c.M}>`;
  const R = `subgroup_matrix_right<f16, ${c.N}, ${c.K}>`;
  const C = `subgroup_matrix_result<f32, ${c.N}, ${c.M}>`;
  const ix = sgmIndex(s, wg);
  // offsets depend on the subgroup's index (0 here: one subgroup), as in the matmul kernel
  return `${sgmHeader(s)}
@group(0) @binding(0) var<storage, read> a: array<f16>;
@group(0) @binding(1) var<storage, read_write> c: array<f32>;
var<workgroup> t: array<f16, ${c.K * c.N}>;
@compute @workgroup_size(${wg})
fn main(@builtin(local_invocation_index) li: u32${ix.params ? ', ' + ix.params : ''}) {
  ${ix.lets}
  for (var i = li; i < ${c.K * c.N}u; i += ${wg}u) { t[i] = a[i]; }
  workgroupBarrier();
  let l = ${sgmLoad(s, L, '&a', `sgi * ${c.M * c.K}u`, false, `${c.K}u`)};
  let r = ${sgmLoad(s, R, '&t', `sgi * ${c.K}u`, true, `${c.K}u`)};
  var acc = ${C}();
  acc = subgroupMatrixMultiplyAccumulate(l, r, acc);
  ${sgmStore(s, '&c', `sgi * ${c.M * c.N}u`, 'acc', false, `${c.N}u`)};
  _ = lane;
}`;
}
