// Batched matmul C[b] = op(A[b]) · op(B[b]) for adapters whose invocations run as SIMD lanes of a CPU
// (lavapipe): one subgroup computes an R × (lane columns) tile of C. What makes it fast there:
// - lavapipe turns every storage load whose address is not a compile-time constant into a per-lane
//   sequence (extract index, bounds check, scalar load, insert: ≈ 9 instructions per float, measured
//   in bench/lavapipe-loads.ts), while an FMA costs two vector instructions for all lanes. So each
//   loaded float must feed as many FMAs as possible, and no float is loaded by two lanes.
// - op(A)'s R rows are loaded once per subgroup, spread over the lanes as vec4 (lane l loads 4
//   consecutive floats of the block), and handed to every lane with subgroupBroadcast (a register
//   permute); op(B)'s values are loaded by the lane that owns the column, as vec4.
// - no workgroup memory and no barriers; K runs in blocks of 4 inside one small loop (unrolling it
//   further makes LLVM hoist the loads and spill, measured slower).
// Layouts: aRows — A stored [M, K] (vec4 along K); otherwise A stored [K, M] (vec4 along M, needs
// M % 4 = 0 and R % 4 = 0). bRows — B stored [N, K] (vec4 along K); otherwise B stored [K, N] (vec4
// along N, needs N % 4 = 0). A lane owns TN groups of columns: one column per group, or four adjacent
// ones (adj; always when B is [K, N]), whose results it stores as one vec4 when N % 4 = 0.
// K % 4 = 0 always. Rows and columns past the edge are clamped for reads; writes are guarded.
// A workgroup is one subgroup of SG lanes (SG = the adapter's fixed subgroup size, checked by the
// engine before this variant is offered).
import { DROP_HASH } from '../dropout/hash.ts';
import { kernel, type Kernel } from '../kernel.ts';
import { SWIGLU_SIGM } from '../swiglu/swiglu.ts';

export interface BroadcastSpec {
  aRows: boolean; // A stored [M, K] (op(A) = A); else [K, M] (op(A) = Aᵀ)
  bRows: boolean; // B stored [N, K] (op(B) = Bᵀ); else [K, N] (op(B) = B)
  R: number; // rows of C per subgroup
  TN: number; // column groups per lane
  /** Four adjacent columns per group (forced when B is stored [K, N]); else one column per group. */
  adj: boolean;
  SG: number; // subgroup size (lanes)
  /** N % 4 = 0: a lane's four adjacent results are stored as one vec4. */
  vecC: boolean;
  /** A second product added to the first (LoRA): C = op(A)·op(B) + s2·[keep ⊙] op(A2)·op(B2), with
   * A2's and B2's layouts as above (K2 % 4 = 0, no batch), keep the dropout mask of output element
   * m·N + n (kernels/dropout/hash.ts) when drop is set. */
  second?: { aRows: boolean; bRows: boolean; drop: boolean };
  /** Epilogue of the LM head (kernels/losses/lm-head-ce.ts): besides C, each subgroup writes per row
   * of its tile the partial log-sum-exp of its columns, part[m·tilesN + tile] = (M, Σ exp(c − M))
   * with M the tile row's max, or 0 where every row max of the tile lies in [−40, 60] (columns past
   * N excluded). No batch, no second product. */
  lse?: boolean;
  /** Backward of the LM head (engine/losses/lm-head-ce.ts): A holds the logits z, stored [M, K]
   * (aRows), and the kernel multiplies by the softmax gradient U = gs·c_r·(exp((z − m_r) − ls_r) −
   * [column = t_r]) instead, computed as A is loaded, with info[r] = (m_r, ls_r, c_r, bitcast t_r)
   * and gs = lg[0] / ln[0]. No batch, no second product. */
  lmGrad?: boolean;
  /** C += the product instead of C = (autograd's accumulation of a second gradient into the first:
   * each element is c + acc, the sum the separate add kernel forms, so the bits are the same). */
  accumulate?: boolean;
  /** C = D + the product, D a fourth binding of C's shape (a residual added in the product's writes:
   * each element is d + acc, the sum the separate add kernel forms, so the bits are the same). */
  addend?: boolean;
  /** SwiGLU in the writes (kernels/swiglu/swiglu.ts): besides C (= up), Y = silu(G) ⊙ C with G a
   * fourth binding of C's shape and Y a fifth, by the swiglu kernel's expression (the same bits).
   * Needs vec4 writes (N % 4 = 0); no batch, no second product. */
  swiglu?: boolean;
}

const range = (n: number) => [...Array(n).keys()];

/** Columns of C one subgroup covers. */
export function broadcastCols(s: BroadcastSpec): number {
  return s.SG * s.TN * (adjacent(s) ? 4 : 1);
}

const adjacent = (s: BroadcastSpec) => s.adj || !s.bRows;

/** Names and layout of one product's operands inside the kernel. */
interface Operands {
  a: string; // A binding
  b: string; // B binding
  aRows: boolean;
  bRows: boolean;
  k4: string; // WGSL: K / 4
  aBase: string; // WGSL: vec4 offset of this batch's A
  bBase: string;
  /** A holds logits: load U = softmax gradient instead (BroadcastSpec.lmGrad). */
  lmGrad?: boolean;
}

/** WGSL: U of a vec4 of logits `z` with row info `li` and the columns' indices `cols` (vec4<i32>). */
const lmGradOf = (z: string, li: string, cols: string) =>
  `(gs * ${li}.z) * (exp((${z} - vec4<f32>(${li}.x)) - vec4<f32>(${li}.y)) - select(vec4<f32>(0.0), vec4<f32>(1.0), ${cols} == vec4<i32>(bitcast<i32>(${li}.w))))`;

/** Index set-up and one k-block (4 k) of acc += op(A)·op(B) for a subgroup tile (see the header). */
function product(s: BroadcastSpec, o: Operands, tag: string, scale: (r: number, c: number) => string | null): { setup: string[]; block: string[] } {
  const { R, TN, SG } = s;
  const adj = adjacent(s);
  const CPL = adj ? 4 * TN : TN;
  const loadsA = Math.ceil(R / SG);
  const setup: string[] = [];
  const block: string[] = [];
  // ---- op(A) block: R rows × 4 k, spread over the lanes ----
  // aRows: vec4 q = row q's k..k+3          → value (r, kk) in vec4 r, component kk
  // else : vec4 q = k-row q / (R/4), m-run 4·(q % (R/4)) → value (r, kk) in vec4 kk·R/4 + r/4, component r % 4
  // lmGrad (A stored [M, K]): the lane's logits row is fixed (its info loaded once, columns 4kb…4kb+3)
  for (const g of range(loadsA)) {
    if (o.aRows) setup.push(`let ia${tag}${g} = ${o.aBase} + min(m0 + ${SG * g}u + l, p.M - 1u) * ${o.k4};`);
    else setup.push(`let q${tag}${g} = min(${SG * g}u + l, ${R - 1}u);`, `let ia${tag}${g} = ${o.aBase} + (q${tag}${g} / ${R / 4}u) * m4 + min(m0 / 4u + q${tag}${g} % ${R / 4}u, m4 - 1u);`);
    const load = `${o.a}[ia${tag}${g}${o.aRows ? ' + kb' : ' + kb * p.M'}]`;
    if (!o.lmGrad) block.push(`let av${g} = ${load};`);
    else {
      setup.push(`let li${g} = info[min(m0 + ${SG * g}u + l, p.M - 1u)];`);
      block.push(`let av${g} = ${lmGradOf(load, `li${g}`, 'vec4<i32>(i32(4u * kb)) + vec4<i32>(0, 1, 2, 3)')};`);
    }
  }
  const aval = (r: number, kk: number) => {
    const q = o.aRows ? r : kk * (R / 4) + (r >> 2);
    return `subgroupBroadcast(av${Math.floor(q / SG)}[${o.aRows ? kk : r & 3}], ${q % SG}u)`;
  };
  // ---- op(B) values for this lane's columns ----
  // bRows: bv{c} = column c's k..k+3;  else bv{j}_{kk} = row k+kk's 4 columns of group j
  if (o.bRows) {
    for (const c of range(CPL)) {
      setup.push(`let ib${tag}${c} = ${o.bBase} + min(${colOf(s, c)}, p.N - 1u) * ${o.k4};`);
      block.push(`let bv${c} = ${o.b}[ib${tag}${c} + kb];`);
    }
  } else {
    for (const j of range(TN)) {
      setup.push(`let ib${tag}${j} = ${o.bBase} + min(n0 / 4u + ${SG * j}u + l, n4 - 1u);`);
      for (const kk of range(4)) block.push(`let bv${j}_${kk} = ${o.b}[ib${tag}${j} + (4u * kb + ${kk}u) * n4];`);
    }
  }
  const bval = (c: number, kk: number) => (o.bRows ? `bv${c}[${kk}]` : `bv${c >> 2}_${kk}[${c & 3}]`);
  for (const kk of range(4)) {
    for (const r of range(R)) {
      block.push(`{ let s = ${aval(r, kk)};`);
      for (const c of range(CPL)) {
        const f = scale(r, c);
        block.push(`  acc${r}_${c} = fma(${f ? `s * ${f}` : 's'}, ${bval(c, kk)}, acc${r}_${c});`);
      }
      block.push('}');
    }
  }
  return { setup, block };
}

/** WGSL: the column of C that column slot c of this lane holds. One per group → n0 + SG·c + l; adjacent → n0 + 4·(SG·⌊c/4⌋ + l) + c % 4. */
function colOf(s: BroadcastSpec, c: number): string {
  return adjacent(s) ? `n0 + ${4 * s.SG * (c >> 2)}u + 4u * l + ${c & 3}u` : `n0 + ${s.SG * c}u + l`;
}

/** WGSL: the log-sum-exp epilogue (see BroadcastSpec.lse). Per row: the shift M (0, or the subgroup's
 * max of the row), Σ exp(c − M) over the lane, summed over the subgroup; lane r % SG stores row r's
 * pair. -max f32 (not -inf) marks columns past N, so exp(x − M) is exactly 0. */
function lsePartials(s: BroadcastSpec, col: (c: number) => string): string[] {
  const CPL = 4 * s.TN;
  const out = [`  let tileN = wid.x % p.tilesN;`];
  for (const c of range(CPL)) out.push(`  let ok${c} = ${col(c)} < p.N;`);
  const v = (r: number, c: number) => `select(-3.4028234663852886e38, acc${r}_${c}, ok${c})`;
  const rowMax = (r: number) => range(CPL - 1).reduce((e, c) => `max(${e}, ${v(r, c + 1)})`, v(r, 0));
  const store = (r: number, M: string, S: string) =>
    `    { let S = ${S}; if (l == ${r % s.SG}u && m0 + ${r}u < p.M) { part[(m0 + ${r}u) * p.tilesN + tileN] = vec2<f32>(${M}, S); } }`;
  // Where every row's max lies in [−40, 60], Σ exp(c) needs no shift: no overflow, even summed over
  // all tiles, and every term within e^47 of the row's largest stays a normal f32 (lavapipe flushes
  // denormals); one subgroup max and min per tile instead of a subgroup max per row.
  out.push(`  var hi = -3.4028234663852886e38;`, `  var lo = 3.4028234663852886e38;`);
  for (const r of range(s.R)) out.push(`  { let m = ${rowMax(r)}; hi = max(hi, m); lo = min(lo, m); }`);
  out.push(
    `  if (subgroupMax(hi) <= 60.0 && subgroupMin(lo) >= -40.0) {`,
    ...range(s.R).map((r) => store(r, '0.0', `subgroupAdd(${range(CPL).map((c) => `exp(${v(r, c)})`).join(' + ')})`)),
    `  } else {`,
    ...range(s.R).flatMap((r) => [`    let M${r} = subgroupMax(${rowMax(r)});`, store(r, `M${r}`, `subgroupAdd(${range(CPL).map((c) => `exp(${v(r, c)} - M${r})`).join(' + ')})`)]),
    `  }`,
  );
  return out;
}

export function matmulBroadcast(s: BroadcastSpec): Kernel {
  const { aRows, bRows, R, TN, SG } = s;
  const adj = adjacent(s);
  const vecC = adj && s.vecC;
  const lora = s.second;
  if ((!aRows || (lora && !lora.aRows)) && R % 4 !== 0) throw new Error(`matmulBroadcast: R = ${R} must be a multiple of 4 when A is stored [K, M]`);
  const CPL = adj ? 4 * TN : TN; // columns per lane
  const col = (c: number) => colOf(s, c);
  const main = product(s, { a: 'a', b: 'b', aRows, bRows, k4: 'k4', aBase: 'bA', bBase: 'bB', lmGrad: s.lmGrad }, '', () => null);
  // the second product: acc += f·(A2·B2) with f = s2 (· the dropout keep of the output element)
  const second = lora
    ? product(s, { a: 'a2', b: 'b2', aRows: lora.aRows, bRows: lora.bRows, k4: 'k24', aBase: '0u', bBase: '0u' }, '2', (r, c) => (lora.drop ? `f${r}_${c}` : 'p.s2'))
    : null;
  const factors = lora?.drop
    ? range(R).flatMap((r) => range(CPL).map((c) => `  let f${r}_${c} = p.s2 * drop_keep(p.seed, (m0 + ${r}u) * p.N + ${col(c)}, p.thr);`))
    : [];
  const plus = (i: string) => (s.accumulate ? `c[${i}] + ` : s.addend ? `dd[${i}] + ` : '');
  const writes = vecC
    ? range(R).flatMap((r) =>
        range(TN).map((j) => {
          const i = `(cb + (m0 + ${r}u) * p.N + ${col(4 * j)}) / 4u`;
          const v = `vec4<f32>(${range(4).map((t) => `acc${r}_${4 * j + t}`).join(', ')})`;
          if (s.swiglu) return `  if (m0 + ${r}u < p.M && ${col(4 * j)} < p.N) { let u = ${v}; c[${i}] = u; let a = gg[${i}]; yy[${i}] = a * sigm(a) * u; }`;
          return `  if (m0 + ${r}u < p.M && ${col(4 * j)} < p.N) { c[${i}] = ${plus(i)}${v}; }`;
        }),
      )
    : range(R).flatMap((r) =>
        range(CPL).map((c) => {
          const i = `cb + (m0 + ${r}u) * p.N + ${col(c)}`;
          return `  if (m0 + ${r}u < p.M && ${col(c)} < p.N) { c[${i}] = ${plus(i)}acc${r}_${c}; }`;
        }),
      );
  if ((s.accumulate || s.addend) && (s.lse || lora || s.lmGrad)) throw new Error('matmulBroadcast: accumulation and an addend are for plain products (no epilogue, no second product)');
  if ([s.accumulate, s.addend, s.swiglu].filter(Boolean).length > 1) throw new Error('matmulBroadcast: one of accumulate, addend and swiglu');
  if (s.swiglu && (!vecC || s.lse || lora || s.lmGrad)) throw new Error('matmulBroadcast: the SwiGLU epilogue needs vec4 writes (N % 4 = 0) and a plain product');
  if (s.lmGrad && (lora || s.lse || !aRows)) throw new Error('matmulBroadcast: the softmax-gradient loads need A stored [M, K], no second product and no epilogue');
  if (s.lse && (lora || !adj)) throw new Error('matmulBroadcast: the log-sum-exp epilogue needs adjacent columns and no second product');
  const lse = s.lse ? lsePartials(s, col) : [];
  // the epilogue branches on a subgroupMax/Min result, uniform over the subgroup (= the workgroup)
  const s_lseDiag = s.lse ? '\ndiagnostic(off, subgroup_uniformity);' : '';
  const lor = lora ? `_plus${lora.aRows ? 'r' : 'c'}${lora.bRows ? 'r' : 'c'}${lora.drop ? 'd' : ''}` : '';
  const name = `matmul_broadcast_${aRows ? 'r' : 'c'}${bRows ? 'r' : 'c'}${lor}${s.lse ? '_lse' : ''}${s.lmGrad ? '_lmgrad' : ''}${s.accumulate ? '_acc' : ''}${s.addend ? '_add' : ''}${s.swiglu ? '_swiglu' : ''}_${R}x${TN}${adj ? 'a' : ''}${vecC ? 'v' : ''}_sg${SG}`;
  const bindings = lora
    ? `@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> a2: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> b2: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> c: array<${vecC ? 'vec4<f32>' : 'f32'}>;`
    : `@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> c: array<${vecC ? 'vec4<f32>' : 'f32'}>;${s.lse ? '\n@group(0) @binding(4) var<storage, read_write> part: array<vec2<f32>>;' : ''}${s.addend ? `\n@group(0) @binding(4) var<storage, read> dd: array<${vecC ? 'vec4<f32>' : 'f32'}>;` : ''}${
        s.swiglu ? `\n@group(0) @binding(4) var<storage, read> gg: array<vec4<f32>>;\n@group(0) @binding(5) var<storage, read_write> yy: array<vec4<f32>>;\n${SWIGLU_SIGM}` : ''
      }${
        s.lmGrad
          ? `
@group(0) @binding(4) var<storage, read> info: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> lg: array<f32>;
@group(0) @binding(6) var<storage, read> ln: array<f32>;`
          : ''
      }`;
  return kernel(
    name,
    /* wgsl */ `enable subgroups;${s_lseDiag}
struct P { M: u32, N: u32, K: u32, sA: u32, sB: u32, sC: u32, tilesN: u32${lora ? ', K2: u32, seed: u32, thr: u32, s2: f32' : ''} }
@group(0) @binding(0) var<uniform> p: P;
${bindings}
${lora?.drop ? DROP_HASH : ''}
@compute @workgroup_size(${SG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_invocation_id) l: u32) {
  let m0 = (wid.x / p.tilesN) * ${R}u;
  let n0 = (wid.x % p.tilesN) * ${broadcastCols(s)}u;
  let k4 = p.K / 4u;
  let m4 = p.M / 4u;
  let n4 = p.N / 4u;
  let bA = wid.z * (p.sA / 4u);
  let bB = wid.z * (p.sB / 4u);
  let cb = wid.z * p.sC;
  ${s.lmGrad ? 'let gs = lg[0] / ln[0];' : ''}
  ${main.setup.join('\n  ')}
${range(R).flatMap((r) => range(CPL).map((c) => `  var acc${r}_${c} = 0.0;`)).join('\n')}
  for (var kb = 0u; kb < k4; kb++) {
    ${main.block.join('\n    ')}
  }${
    second
      ? `
  let k24 = p.K2 / 4u;
  ${second.setup.join('\n  ')}
${factors.join('\n')}
  for (var kb = 0u; kb < k24; kb++) {
    ${second.block.join('\n    ')}
  }`
      : ''
  }
${writes.join('\n')}
${lse.join('\n')}
}`,
    lora ? ['r', 'r', 'r', 'r', 'rw'] : s.lse ? ['r', 'r', 'rw', 'rw'] : s.lmGrad ? ['r', 'r', 'rw', 'r', 'r', 'r'] : s.addend ? ['r', 'r', 'rw', 'r'] : s.swiglu ? ['r', 'r', 'rw', 'r', 'rw'] : ['r', 'r', 'rw'],
  );
}
