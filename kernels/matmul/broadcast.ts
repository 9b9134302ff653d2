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
// M % 4 = 0 and R % 4 = 0). bRows — B stored [N, K] (vec4 along K, lane = one column per group);
// otherwise B stored [K, N] (vec4 along N, lane = four adjacent columns per group, needs N % 4 = 0).
// K % 4 = 0 always. Rows and columns past the edge are clamped for reads; writes are guarded.
// A workgroup is one subgroup of SG lanes (SG = the adapter's fixed subgroup size, checked by the
// engine before this variant is offered).
import { kernel, type Kernel } from '../kernel.ts';

export interface BroadcastSpec {
  aRows: boolean; // A stored [M, K] (op(A) = A); else [K, M] (op(A) = Aᵀ)
  bRows: boolean; // B stored [N, K] (op(B) = Bᵀ); else [K, N] (op(B) = B)
  R: number; // rows of C per subgroup
  TN: number; // column groups per lane: one column each (bRows) or four (else)
  SG: number; // subgroup size (lanes)
}

const range = (n: number) => [...Array(n).keys()];

/** Columns of C one subgroup covers. */
export function broadcastCols(s: BroadcastSpec): number {
  return s.SG * s.TN * (s.bRows ? 1 : 4);
}

export function matmulBroadcast(s: BroadcastSpec): Kernel {
  const { aRows, bRows, R, TN, SG } = s;
  if (!aRows && R % 4 !== 0) throw new Error(`matmulBroadcast: R = ${R} must be a multiple of 4 when A is stored [K, M]`);
  const CPL = bRows ? TN : 4 * TN; // columns per lane
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
  if (bRows) {
    for (const j of range(TN)) body.push(`let bv${j} = b[ib${j} + kb];`); // column j, k..k+3
  } else {
    for (const j of range(TN)) for (const kk of range(4)) body.push(`let bv${j}_${kk} = b[ib${j} + (4u * kb + ${kk}u) * n4];`); // row k+kk, 4 columns
  }
  const bval = (c: number, kk: number) => (bRows ? `bv${c}[${kk}]` : `bv${c >> 2}_${kk}[${c & 3}]`);
  for (const kk of range(4)) {
    for (const r of range(R)) {
      body.push(`{ let s = ${aval(r, kk)};`);
      for (const c of range(CPL)) body.push(`  acc${r}_${c} = fma(s, ${bval(c, kk)}, acc${r}_${c});`);
      body.push('}');
    }
  }
  // column owned by this lane: bRows → n0 + SG·j + l; else n0 + 4·(SG·j + l) + t
  const col = (c: number) => (bRows ? `n0 + ${SG * c}u + l` : `n0 + ${4 * SG * (c >> 2)}u + 4u * l + ${c & 3}u`);
  const writes = range(R).flatMap((r) =>
    range(CPL).map((c) => `  if (m0 + ${r}u < p.M && ${col(c)} < p.N) { c[cb + (m0 + ${r}u) * p.N + ${col(c)}] = acc${r}_${c}; }`),
  );
  const aIdx = range(loadsA).map((g) => {
    if (aRows) return `  let ia${g} = bA + min(m0 + ${SG * g}u + l, p.M - 1u) * k4;`;
    // q = SG·g + l (clamped to the block); k-row q / (R/4), m-run 4·(q % (R/4)) clamped to the last run
    return `  let q${g} = min(${SG * g}u + l, ${R - 1}u);\n  let ia${g} = bA + (q${g} / ${R / 4}u) * m4 + min(m0 / 4u + q${g} % ${R / 4}u, m4 - 1u);`;
  });
  const bIdx = range(TN).map((j) =>
    bRows ? `  let ib${j} = bB + min(n0 + ${SG * j}u + l, p.N - 1u) * k4;` : `  let ib${j} = bB + min(n0 / 4u + ${SG * j}u + l, n4 - 1u);`,
  );
  const name = `matmul_broadcast_${aRows ? 'r' : 'c'}${bRows ? 'r' : 'c'}_${R}x${TN}_sg${SG}`;
  return kernel(
    name,
    /* wgsl */ `enable subgroups;
struct P { M: u32, N: u32, K: u32, sA: u32, sB: u32, sC: u32, tilesN: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
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
