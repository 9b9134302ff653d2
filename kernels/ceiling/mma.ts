// Matrix-unit ceiling: what Dawn's subgroup matrices (cooperative matrices / tensor cores) deliver
// when nothing else is in the way, and what each source of the operands costs. Each subgroup holds
// fm × fn f32 result matrices and multiply-accumulates f16 left/right matrices into them `iters`
// times; the operands come from
//   'reg'     — registers: loaded once before the loop (only the matrix units and the scheduler count)
//   'wg'      — workgroup memory: every iteration loads fm lefts and fn rights (as a staged matmul does)
//   'global'  — the storage buffer: every iteration loads them from global memory (cache-resident)
// Loads inside the loop alternate between PHASES sets of matrices by (k · p.step) mod PHASES with
// p.step = 1 from the uniform, so the compiler cannot prove them loop-invariant and hoist them.
// Operands are small integers, so every result is exact in f32 and checkable (mmaExpected).
import { f16Kernel, kernel, type Kernel } from '../kernel.ts';
import { sgmHeader, sgmIndex, sgmLoad, sgmStore, type SubgroupMatrixSyntax } from '../matmul/subgroup-matrix-syntax.ts';

export type MmaSource = 'reg' | 'wg' | 'global';

export interface MmaCeilingSpec {
  source: MmaSource;
  fm: number;
  fn: number;
  /** subgroups per workgroup */
  subgroups: number;
  /** the adapter's subgroup size */
  sg: number;
  cfg: { M: number; N: number; K: number };
  syntax: SubgroupMatrixSyntax;
}

/** Operand sets the in-loop loads alternate between. */
export const MMA_PHASES = 2;

const range = (n: number) => [...Array(n).keys()];

/** Layout of the operand buffer (f16 elements): for each phase, fm lefts (M×K, row-major) then fn
 * rights (K×N, row-major). */
export function mmaOperandLayout(s: Pick<MmaCeilingSpec, 'fm' | 'fn' | 'cfg'>): { left: (ph: number, i: number) => number; right: (ph: number, j: number) => number; size: number } {
  const { M, N, K } = s.cfg;
  const per = s.fm * M * K + s.fn * K * N;
  return {
    left: (ph, i) => ph * per + i * M * K,
    right: (ph, j) => ph * per + s.fm * M * K + j * K * N,
    size: MMA_PHASES * per,
  };
}

/** The operand buffer's values: integers in {−1, 0, 1} from a hash of the position (no period, so
 * every matrix differs). */
export function mmaOperandValue(e: number): number {
  return ((Math.imul(e ^ (e >>> 7), 0x9e3779b1) >>> 0) % 3) - 1;
}

/** The exact value of result matrix (i, j)'s element (m, n) after `iters` iterations. */
export function mmaExpected(s: Pick<MmaCeilingSpec, 'source' | 'fm' | 'fn' | 'cfg'>, iters: number, i: number, j: number, m: number, n: number): number {
  const { N, K } = s.cfg;
  const lay = mmaOperandLayout(s);
  let total = 0;
  for (let ph = 0; ph < MMA_PHASES; ph++) {
    // 'reg' loads phase 0 once; the others run phase ph on the iterations k with k mod PHASES = ph
    const count = s.source === 'reg' ? (ph === 0 ? iters : 0) : Math.max(0, Math.floor((iters - ph + MMA_PHASES - 1) / MMA_PHASES));
    if (count === 0) continue;
    let dot = 0;
    for (let k = 0; k < K; k++) dot += mmaOperandValue(lay.left(ph, i) + m * K + k) * mmaOperandValue(lay.right(ph, j) + k * N + n);
    total += count * dot;
  }
  return total;
}

/** Flops of one launch: every subgroup does fm·fn multiply-accumulates of 2·M·N·K per iteration. */
export function mmaFlops(s: Pick<MmaCeilingSpec, 'fm' | 'fn' | 'subgroups' | 'cfg'>, workgroups: number, iters: number): number {
  return workgroups * s.subgroups * s.fm * s.fn * 2 * s.cfg.M * s.cfg.N * s.cfg.K * iters;
}

export function mmaCeiling(s: MmaCeilingSpec): Kernel {
  const { fm, fn, cfg, syntax } = s;
  const { M, N, K } = cfg;
  const threads = s.subgroups * s.sg;
  const lay = mmaOperandLayout(s);
  const L = `subgroup_matrix_left<f16, ${K}, ${M}>`;
  const R = `subgroup_matrix_right<f16, ${N}, ${K}>`;
  const C = `subgroup_matrix_result<f32, ${N}, ${M}>`;
  const per = lay.size / MMA_PHASES;
  const src = s.source === 'wg' ? '&t' : '&a';
  // operand offsets: phase 0 for 'reg', else the iteration's phase
  const off = (base: number) => (s.source === 'reg' ? `${base}u` : `ph * ${per}u + ${base}u`);
  const loads = [
    ...range(fm).map((i) => `let l${i} = ${sgmLoad(syntax, L, src, off(lay.left(0, i)), false, `${K}u`)};`),
    ...range(fn).map((j) => `let r${j} = ${sgmLoad(syntax, R, src, off(lay.right(0, j)), false, `${N}u`)};`),
  ];
  const mma = range(fm).flatMap((i) => range(fn).map((j) => `acc${i}_${j} = subgroupMatrixMultiplyAccumulate(l${i}, r${j}, acc${i}_${j});`));
  const ix = sgmIndex(syntax, s.sg);
  const frags = fm * fn;
  const stores = range(fm).flatMap((i) =>
    range(fn).map((j) => `${sgmStore(syntax, '&c', `((wid.x * ${s.subgroups}u + sgi) * ${frags}u + ${i * fn + j}u) * ${M * N}u`, `acc${i}_${j}`, false, `${N}u`)};`),
  );
  const body =
    s.source === 'reg'
      ? `${loads.join('\n  ')}
  for (var k = 0u; k < p.iters; k++) {
    ${mma.join('\n    ')}
  }`
      : `for (var k = 0u; k < p.iters; k++) {
    let ph = (k * p.step) % ${MMA_PHASES}u;
    ${loads.join('\n    ')}
    ${mma.join('\n    ')}
  }`;
  return f16Kernel(
    kernel(
      `ceiling_mma_${s.source}_${fm}x${fn}_s${s.subgroups}_c${M}x${N}x${K}_g${s.sg}${syntax.index === 'builtin' ? 'b' : ''}`,
      /* wgsl */ `${sgmHeader(syntax)}
struct P { iters: u32, step: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<f16>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
${s.source === 'wg' ? `var<workgroup> t: array<f16, ${lay.size}>;` : ''}
@compute @workgroup_size(${threads})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32${ix.params ? ', ' + ix.params : ''}) {
  ${ix.lets}
  _ = lane;
${range(fm)
  .flatMap((i) => range(fn).map((j) => `  var acc${i}_${j} = ${C}();`))
  .join('\n')}
  ${s.source === 'wg' ? `for (var e = li; e < ${lay.size}u; e += ${threads}u) { t[e] = a[e]; }\n  workgroupBarrier();` : ''}
  ${body}
  ${stores.join('\n  ')}
}`,
      ['r', 'rw'],
    ),
  );
}
