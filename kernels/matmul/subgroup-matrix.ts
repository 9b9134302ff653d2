// Batched matmul C[b] = op(A[b]) · op(B[b]) of f16 operands on the GPU's matrix units (Dawn's
// subgroup matrices: cooperative matrices / tensor cores), f32 accumulation, f32 or f16 output.
// A workgroup of sm × sn subgroups owns a BM × BN tile of C (BM = sm·fm·cfg.M, BN = sn·fn·cfg.N);
// each subgroup owns fm × fn result matrices held in registers. Per step of BK along K the workgroup
// stages op(A)'s BM × BK and op(B)'s BK × BN tiles in workgroup memory in the operands' own layouts
// (zeros beyond the edges, so any M, N, K works), and each subgroup multiply-accumulates from there;
// a transposed operand is read column-major instead of being transposed on the way in. Global loads
// are vec4<f16> along an operand's contiguous dimension when it is a multiple of 4. The result
// leaves through a per-subgroup scratch matrix so edge tiles are written with bounds checks and an
// f16 output is rounded to nearest even by the casts' bit routine.
import { f16Kernel, kernel, type Kernel } from '../kernel.ts';
import { F32_TO_F16_BITS } from '../cast/f16.ts';
import { sgmHeader, sgmIndex, sgmLoad, sgmStore, type SubgroupMatrixSyntax } from './subgroup-matrix-syntax.ts';

export interface SgmTile {
  /** subgroups along M and N */
  sm: number;
  sn: number;
  /** result matrices per subgroup along M and N */
  fm: number;
  fn: number;
  /** K per staged step (a multiple of cfg.K and of 4) */
  bk: number;
}

export interface SgmSpec {
  transA: boolean;
  transB: boolean;
  vecA: boolean; // A's contiguous dimension is a multiple of 4
  vecB: boolean;
  out: 'f16' | 'f32';
  cfg: { M: number; N: number; K: number };
  /** the adapter's subgroup size (lanes in local-index order) */
  sg: number;
  tile: SgmTile;
  syntax: SubgroupMatrixSyntax;
  /** Load the matrices straight from the operands instead of staging tiles in workgroup memory: no
   * barriers in the K loop, the cache serves the reuse. Only for M % BM = N % BN = K % cfg.K = 0
   * (a load never crosses an edge; the caller checks). */
  direct?: boolean;
  /** Staged: fetch the next step's tiles into registers while this step multiplies. */
  prefetch?: boolean;
  /** Staged, two tile buffers: step i multiplies from one while the next step's tiles (fetched into
   * registers before the multiplies) go into the other, so each step needs one barrier instead of two. */
  double?: boolean;
}

/** Extra f16 elements per staged row: rows stay 16-byte aligned and start in different banks. */
const PAD = 8;

export function sgmTileDims(s: Pick<SgmSpec, 'cfg' | 'tile'>): { BM: number; BN: number; BK: number; threads: (sg: number) => number } {
  const { cfg, tile } = s;
  return { BM: tile.sm * tile.fm * cfg.M, BN: tile.sn * tile.fn * cfg.N, BK: tile.bk, threads: (sg) => tile.sm * tile.sn * sg };
}

const range = (n: number) => [...Array(n).keys()];

/** Staged A and B tile sizes (f16 elements, one buffer each) of a spec. */
function stagedSizes(s: Pick<SgmSpec, 'transA' | 'transB' | 'cfg' | 'tile'>): { a: number; b: number } {
  const { BM, BN, BK } = sgmTileDims(s);
  return { a: s.transA ? BK * (BM + PAD) : BM * (BK + PAD), b: s.transB ? BN * (BK + PAD) : BK * (BN + PAD) };
}

/** Workgroup memory of a spec in bytes (the larger of the transposes' staged layouts), for the
 * adapter's maxComputeWorkgroupStorageSize. */
export function sgmWorkgroupBytes(s: Pick<SgmSpec, 'cfg' | 'tile' | 'direct' | 'double'>): number {
  const sizes = [false, true].flatMap((transA) => [false, true].map((transB) => stagedSizes({ ...s, transA, transB })));
  const staged = s.direct ? 0 : Math.max(...sizes.map((z) => 2 * (z.a + z.b))) * (s.double ? 2 : 1);
  return staged + 4 * s.tile.sm * s.tile.sn * s.cfg.M * s.cfg.N;
}

/** One operand's staging: an `outer × inner` tile, inner = the operand's contiguous dimension. */
interface Stage {
  name: 'a' | 'b';
  sh: string; // workgroup array
  outer: number;
  inner: number;
  ld: number; // staged row length (inner + PAD)
  vec: boolean;
  // WGSL expressions: global coordinates of the tile's first outer row / inner column, their limits,
  // the global row length, the batch offset
  outer0: string;
  inner0: string;
  outerLim: string;
  innerLim: string;
  rowLen: string;
  base: string;
}

/** Per thread, the staging of one operand in parts: `fetch` reads its share of the tile at `kExpr`
 * into registers r<name><j>, `store` writes the registers to workgroup memory. */
function stageParts(st: Stage, threads: number, kExpr: string, storeOff = ''): { decl: string; fetch: string; store: string } {
  const vw = st.vec ? 4 : 1;
  const perRow = st.inner / vw;
  const count = st.outer * perRow;
  const T = st.vec ? 'vec4<f16>' : 'f16';
  const decl: string[] = [];
  const fetch: string[] = [];
  const store: string[] = [];
  const sub = (x: string) => x.replace(/\bk0\b/g, kExpr);
  for (const j of range(Math.ceil(count / threads))) {
    const guard = (j + 1) * threads > count ? `li + ${j * threads}u < ${count}u` : 'true';
    const reg = `r${st.name}${j}`;
    decl.push(`var ${reg} = ${T}(0.0h);`);
    const idx = `let e = li + ${j * threads}u; let o = e / ${perRow}u; let i = (e % ${perRow}u) * ${vw}u;`;
    fetch.push(
      `{ ${idx} let go = ${sub(st.outer0)} + o; let gi = ${sub(st.inner0)} + i;` +
        ` let ok = ${guard} && go < ${st.outerLim} && gi < ${st.innerLim};` +
        ` let g = ${st.base} + min(go, ${st.outerLim} - 1u) * ${st.rowLen} + min(gi, ${st.innerLim} - 1u);` +
        // the limit is a multiple of 4 when vectorised and gi is too: a vec4 is wholly inside or outside
        ` ${reg} = select(${T}(0.0h), ${st.name}[${st.vec ? 'g >> 2u' : 'g'}], ok); }`,
    );
    const writes = st.vec ? range(4).map((t) => `${st.sh}[s + ${t}u] = ${reg}[${t}];`).join(' ') : `${st.sh}[s] = ${reg};`;
    store.push(`if (${guard}) { ${idx} let s = ${storeOff}o * ${st.ld}u + i; ${writes} }`);
  }
  return { decl: decl.join('\n  '), fetch: fetch.join('\n    '), store: store.join('\n    ') };
}

export function matmulSubgroupMatrix(s: SgmSpec): Kernel {
  const { transA, transB, cfg, tile, sg, syntax } = s;
  const { BM, BN, BK } = sgmTileDims(s);
  const threads = tile.sm * tile.sn * sg;
  if (BK % cfg.K !== 0 || BK % 4 !== 0) throw new Error(`matmulSubgroupMatrix: BK ${BK} must be a multiple of ${cfg.K} and 4`);
  const L = `subgroup_matrix_left<f16, ${cfg.K}, ${cfg.M}>`;
  const R = `subgroup_matrix_right<f16, ${cfg.N}, ${cfg.K}>`;
  const C = `subgroup_matrix_result<f32, ${cfg.N}, ${cfg.M}>`;
  // staged layouts mirror global memory: A is [m][k] (or [k][m] when transposed), B is [k][n] (or [n][k])
  const sa: Stage = transA
    ? { name: 'a', sh: 'ta', outer: BK, inner: BM, ld: BM + PAD, vec: s.vecA, outer0: 'k0', inner0: 'm0', outerLim: 'p.K', innerLim: 'p.M', rowLen: 'p.M', base: 'bA' }
    : { name: 'a', sh: 'ta', outer: BM, inner: BK, ld: BK + PAD, vec: s.vecA, outer0: 'm0', inner0: 'k0', outerLim: 'p.M', innerLim: 'p.K', rowLen: 'p.K', base: 'bA' };
  const sb: Stage = transB
    ? { name: 'b', sh: 'tb', outer: BN, inner: BK, ld: BK + PAD, vec: s.vecB, outer0: 'n0', inner0: 'k0', outerLim: 'p.N', innerLim: 'p.K', rowLen: 'p.K', base: 'bB' }
    : { name: 'b', sh: 'tb', outer: BK, inner: BN, ld: BN + PAD, vec: s.vecB, outer0: 'k0', inner0: 'n0', outerLim: 'p.K', innerLim: 'p.N', rowLen: 'p.N', base: 'bB' };
  const mma: string[] = [];
  for (const kf of range(BK / cfg.K)) {
    const kOff = kf * cfg.K;
    mma.push('{');
    for (const i of range(tile.fm)) {
      const row = `(wm + ${i * cfg.M}u)`;
      if (s.direct) {
        const off = transA ? `bA + (k0 + ${kOff}u) * p.M + m0 + ${row}` : `bA + (m0 + ${row}) * p.K + k0 + ${kOff}u`;
        mma.push(`let l${i} = ${sgmLoad(syntax, L, '&a', off, transA, transA ? 'p.M' : 'p.K')};`);
      } else {
        const off = `${s.double ? 'curA + ' : ''}${transA ? `${kOff * sa.ld}u + ${row}` : `${row} * ${sa.ld}u + ${kOff}u`}`;
        mma.push(`let l${i} = ${sgmLoad(syntax, L, '&ta', off, transA, `${sa.ld}u`)};`);
      }
    }
    for (const j of range(tile.fn)) {
      const col = `(wn + ${j * cfg.N}u)`;
      if (s.direct) {
        const off = transB ? `bB + (n0 + ${col}) * p.K + k0 + ${kOff}u` : `bB + (k0 + ${kOff}u) * p.N + n0 + ${col}`;
        mma.push(`let r${j} = ${sgmLoad(syntax, R, '&b', off, transB, transB ? 'p.K' : 'p.N')};`);
      } else {
        const off = `${s.double ? 'curB + ' : ''}${transB ? `${col} * ${sb.ld}u + ${kOff}u` : `${kOff * sb.ld}u + ${col}`}`;
        mma.push(`let r${j} = ${sgmLoad(syntax, R, '&tb', off, transB, `${sb.ld}u`)};`);
      }
    }
    for (const i of range(tile.fm)) for (const j of range(tile.fn)) mma.push(`acc${i}_${j} = subgroupMatrixMultiplyAccumulate(l${i}, r${j}, acc${i}_${j});`);
    mma.push('}');
  }
  const frag = cfg.M * cfg.N;
  const writes: string[] = [];
  for (const i of range(tile.fm))
    for (const j of range(tile.fn)) {
      writes.push(`${sgmStore(syntax, '&tc', 'sgi * ' + frag + 'u', `acc${i}_${j}`, false, `${cfg.N}u`)};`);
      writes.push('workgroupBarrier();');
      for (const t of range(Math.ceil(frag / sg))) {
        const e = `(lane + ${t * sg}u)`;
        const v = `tc[sgi * ${frag}u + ${e}]`;
        const val = s.out === 'f16' ? `bitcast<vec2<f16>>(f32ToF16Bits(bitcast<u32>(${v})))[0]` : v;
        const guard = (t + 1) * sg > frag ? `${e} < ${frag}u && ` : '';
        writes.push(
          `{ let r = m0 + wm + ${i * cfg.M}u + ${e} / ${cfg.N}u; let c2 = n0 + wn + ${j * cfg.N}u + ${e} % ${cfg.N}u;` +
            ` if (${guard}r < p.M && c2 < p.N) { c[cb + r * p.N + c2] = ${val}; } }`,
        );
      }
      writes.push('workgroupBarrier();');
    }
  const ix = sgmIndex(syntax, sg);
  const VA = s.vecA && !s.direct ? 'vec4<f16>' : 'f16';
  const VB = s.vecB && !s.direct ? 'vec4<f16>' : 'f16';
  // staged: this step's tile goes from registers to workgroup memory, then (prefetch) the next
  // step's global loads are issued before the multiplies so their latency hides behind them
  const size = stagedSizes(s);
  const pa = stageParts(sa, threads, s.prefetch || s.double ? 'kn' : 'k0', s.double ? 'nxtA + ' : '');
  const pb = stageParts(sb, threads, s.prefetch || s.double ? 'kn' : 'k0', s.double ? 'nxtB + ' : '');
  // double: the first step's tiles go into buffer 0 before the loop; step i multiplies from buffer
  // i mod 2 while step i + 1's tiles, fetched before the multiplies, go into the other one after them
  const pre = s.direct
    ? ''
    : s.double
      ? `${pa.decl}\n  ${pb.decl}\n  var kn = 0u;\n  var nxtA = 0u;\n  var nxtB = 0u;\n  ${pa.fetch}\n  ${pb.fetch}\n  ${pa.store}\n  ${pb.store}\n  workgroupBarrier();`
      : s.prefetch
        ? `${pa.decl}\n  ${pb.decl}\n  var kn = 0u;\n  ${pa.fetch}\n  ${pb.fetch}`
        : `${pa.decl}\n  ${pb.decl}`;
  const loop = s.direct
    ? `${mma.join('\n    ')}`
    : s.double
      ? `let cur = (k0 / ${BK}u) & 1u;
    let curA = cur * ${size.a}u;
    let curB = cur * ${size.b}u;
    nxtA = ${size.a}u - curA;
    nxtB = ${size.b}u - curB;
    kn = k0 + ${BK}u;
    let more = kn < p.K;
    if (more) {
      ${pa.fetch}
      ${pb.fetch}
    }
    ${mma.join('\n    ')}
    if (more) {
      ${pa.store}
      ${pb.store}
    }
    workgroupBarrier();`
      : `${s.prefetch ? '' : `${pa.fetch}\n    ${pb.fetch}\n    `}${pa.store}
    ${pb.store}
    workgroupBarrier();
    ${s.prefetch ? `kn = k0 + ${BK}u;\n    ${pa.fetch}\n    ${pb.fetch}\n    ` : ''}${mma.join('\n    ')}
    workgroupBarrier();`;
  const name =
    `matmul_sgmat_${transA ? 't' : 'n'}${transB ? 't' : 'n'}_${s.vecA ? 'v' : 's'}${s.vecB ? 'v' : 's'}_${s.out}` +
    `${s.direct ? '_direct' : ''}${s.prefetch ? '_pf' : ''}${s.double ? '_db' : ''}_c${cfg.M}x${cfg.N}x${cfg.K}_t${tile.sm}x${tile.sn}x${tile.fm}x${tile.fn}x${tile.bk}_s${sg}${syntax.index === 'builtin' ? 'b' : ''}`;
  const k = kernel(
    name,
    /* wgsl */ `${sgmHeader(syntax)}
struct P { M: u32, N: u32, K: u32, sA: u32, sB: u32, sC: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<${VA}>;
@group(0) @binding(2) var<storage, read> b: array<${VB}>;
@group(0) @binding(3) var<storage, read_write> c: array<${s.out}>;
${s.direct ? '' : `var<workgroup> ta: array<f16, ${sa.outer * sa.ld * (s.double ? 2 : 1)}>;\nvar<workgroup> tb: array<f16, ${sb.outer * sb.ld * (s.double ? 2 : 1)}>;`}
var<workgroup> tc: array<f32, ${tile.sm * tile.sn * frag}>;
${s.out === 'f16' ? F32_TO_F16_BITS : ''}
@compute @workgroup_size(${threads})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32${ix.params ? ', ' + ix.params : ''}) {
  let m0 = wid.y * ${BM}u;
  let n0 = wid.x * ${BN}u;
  let bA = wid.z * p.sA;
  let bB = wid.z * p.sB;
  let cb = wid.z * p.sC;
  ${ix.lets}
  // this subgroup's corner inside the tile
  let wm = (sgi / ${tile.sn}u) * ${tile.fm * cfg.M}u;
  let wn = (sgi % ${tile.sn}u) * ${tile.fn * cfg.N}u;
${range(tile.fm)
  .flatMap((i) => range(tile.fn).map((j) => `  var acc${i}_${j} = ${C}();`))
  .join('\n')}
  ${pre}
  for (var k0 = 0u; k0 < p.K; k0 += ${BK}u) {
    ${loop}
  }
  ${writes.join('\n  ')}
}`,
    ['r', 'r', 'rw'],
  );
  return f16Kernel(k);
}
