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
import { kernel, type Kernel } from '../kernel.ts';

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
}

const range = (n: number) => [...Array(n).keys()];

/** Columns of C one subgroup covers. */
export function broadcastCols(s: BroadcastSpec): number {
  return s.SG * s.TN * (adjacent(s) ? 4 : 1);
}

const adjacent = (s: BroadcastSpec) => s.adj || !s.bRows;

export function matmulBroadcast(s: BroadcastSpec): Kernel {
  const { aRows, bRows, R, TN, SG } = s;
  const adj = adjacent(s);
  const vecC = adj && s.vecC;
  if (!aRows && R % 4 !== 0) throw new Error(`matmulBroadcast: R = ${R} must be a multiple of 4 when A is stored [K, M]`);
  const CPL = adj ? 4 * TN : TN; // columns per lane
  const loadsA = Math.ceil(R / SG); // vec4 loads of A per lane per block of 4 k
  const body: string[] = [];
  // ---- op(A) block: R rows × 4 k, spread over the lanes ----
  // aRows: vec4 q = row q's k..k+3          → value (r, kk) in vec4 r, component kk
  // else : vec4 q = k-row q / (R/4), m-run 4·(q % (R/4)) → value (r, kk) in vec4 kk·R/4 + r/4, component r % 4
  for (const g of range(loadsA)) body.push(`let av${g} = a[ia${g}${aRows ? ' + kb' : ' + kb * p.M'}];`);
  const aval = (r: number, kk: number) => {
    const q = aRows ? r : kk * (R / 4) + (r >> 2);
    const comp = aRows ? kk : r & 3;
    return `subgroupBroadcast(av${Math.floor(q / SG)}[${comp}], ${q % SG}u)`;
  };
  // ---- op(B) values for this lane's columns ----
  // bRows: bv{c} = column c's k..k+3;  else bv{j}_{kk} = row k+kk's 4 columns of group j
  if (bRows) {
    for (const c of range(CPL)) body.push(`let bv${c} = b[ib${c} + kb];`);
  } else {
    for (const j of range(TN)) for (const kk of range(4)) body.push(`let bv${j}_${kk} = b[ib${j} + (4u * kb + ${kk}u) * n4];`);
  }
  const bval = (c: number, kk: number) => (bRows ? `bv${c}[${kk}]` : `bv${c >> 2}_${kk}[${c & 3}]`);
  for (const kk of range(4)) {
    for (const r of range(R)) {
      body.push(`{ let s = ${aval(r, kk)};`);
      for (const c of range(CPL)) body.push(`  acc${r}_${c} = fma(s, ${bval(c, kk)}, acc${r}_${c});`);
      body.push('}');
    }
  }
  // column c of this lane: one per group → n0 + SG·c + l; adjacent → n0 + 4·(SG·⌊c/4⌋ + l) + c % 4
  const col = (c: number) => (adj ? `n0 + ${4 * SG * (c >> 2)}u + 4u * l + ${c & 3}u` : `n0 + ${SG * c}u + l`);
  const writes = vecC
    ? range(R).flatMap((r) =>
        range(TN).map(
          (j) =>
            `  if (m0 + ${r}u < p.M && ${col(4 * j)} < p.N) { c[(cb + (m0 + ${r}u) * p.N + ${col(4 * j)}) / 4u] = vec4<f32>(${range(4).map((t) => `acc${r}_${4 * j + t}`).join(', ')}); }`,
        ),
      )
    : range(R).flatMap((r) => range(CPL).map((c) => `  if (m0 + ${r}u < p.M && ${col(c)} < p.N) { c[cb + (m0 + ${r}u) * p.N + ${col(c)}] = acc${r}_${c}; }`));
  const aIdx = range(loadsA).map((g) => {
    if (aRows) return `  let ia${g} = bA + min(m0 + ${SG * g}u + l, p.M - 1u) * k4;`;
    // q = SG·g + l (clamped to the block); k-row q / (R/4), m-run 4·(q % (R/4)) clamped to the last run
    return `  let q${g} = min(${SG * g}u + l, ${R - 1}u);\n  let ia${g} = bA + (q${g} / ${R / 4}u) * m4 + min(m0 / 4u + q${g} % ${R / 4}u, m4 - 1u);`;
  });
  const bIdx = bRows
    ? range(CPL).map((c) => `  let ib${c} = bB + min(${col(c)}, p.N - 1u) * k4;`)
    : range(TN).map((j) => `  let ib${j} = bB + min(n0 / 4u + ${SG * j}u + l, n4 - 1u);`);
  const name = `matmul_broadcast_${aRows ? 'r' : 'c'}${bRows ? 'r' : 'c'}_${R}x${TN}${adj ? 'a' : ''}${vecC ? 'v' : ''}_sg${SG}`;
  return kernel(
    name,
    /* wgsl */ `enable subgroups;
struct P { M: u32, N: u32, K: u32, sA: u32, sB: u32, sC: u32, tilesN: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> c: array<${vecC ? 'vec4<f32>' : 'f32'}>;
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
${aIdx.join('\n')}
${bIdx.join('\n')}
${range(R).flatMap((r) => range(CPL).map((c) => `  var acc${r}_${c} = 0.0;`)).join('\n')}
  for (var kb = 0u; kb < k4; kb++) {
    ${body.join('\n    ')}
  }
${writes.join('\n')}
}`,
    ['r', 'r', 'rw'],
  );
}
