// Register-blocked batched matmul C[b] = op(A[b]) · op(B[b]) for CPU-like adapters (lavapipe):
// no workgroup memory and no barriers; each invocation owns a 4×8 tile of C held in eight vec4
// accumulators and walks K in blocks of 4, so one block is 4 + 8 vec4 loads for 32 vec4 FMAs.
// Loads are vec4 along each operand's contiguous dimension when that dimension is a multiple of 4
// (A: K if row-major, M if transposed; B: N if row-major, K if transposed), scalar otherwise.
// Edges: row/column indices are clamped for reads and writes are guarded; K % 4 runs a scalar tail.
// Everything is unrolled in the generated source so the compiler keeps the tile in registers.
// The f16 specialisation (shader-f16) reads f16 operands, widens them on load and accumulates in
// f32; an f16 output is rounded once at the store, to nearest even by the same bit routine as the
// casts (WGSL leaves a float conversion's rounding to the implementation).
import { f16Kernel, kernel, type Kernel } from '../kernel.ts';
import { F32_TO_F16_BITS } from '../cast/f16.ts';

export const REG_TM = 4;
export const REG_TN = 8;
export const REG_WG = [8, 8] as const; // x over column tiles, y over row tiles

export interface RegisterSpec {
  transA: boolean;
  transB: boolean;
  vecA: boolean; // A's contiguous dimension is a multiple of 4
  vecB: boolean;
  /** f16 operands (f32 accumulation) and the output's dtype; absent: f32 throughout. */
  half?: { out: 'f16' | 'f32' };
}

const range = (n: number) => [...Array(n).keys()];

export function matmulRegister(s: RegisterSpec): Kernel {
  const { transA, transB, vecA, vecB, half } = s;
  // operand loads are widened to f32 when the operands are f16
  const w1 = (x: string) => (half ? `f32(${x})` : x);
  const w4 = (x: string) => (half ? `vec4<f32>(${x})` : x);
  const V4 = (xs: string[]) => `vec4<f32>(${xs.map(w1).join(', ')})`;
  // scalar element e of an operand bound as a scalar or vec4 array
  const elA = (idx: string) => w1(vecA ? `a[(${idx}) >> 2u][(${idx}) & 3u]` : `a[${idx}]`);
  const elB = (idx: string) => w1(vecB ? `b[(${idx}) >> 2u][(${idx}) & 3u]` : `b[${idx}]`);
  const lines: string[] = [];
  // ---- A block: av[q] (q = 0..3) as vec4 ----
  // row-major A: av[i] = A[row i, k..k+3];   transposed A: av[kk] = A[rows r0..r0+3, k+kk]
  for (const q of range(4)) {
    if (!transA) {
      const base = `bA + ri${q} * p.K + k`;
      lines.push(`let av${q} = ${vecA ? w4(`a[(${base}) >> 2u]`) : V4(range(4).map((t) => `a[${base} + ${t}u]`))};`);
    } else {
      const base = `bA + (k + ${q}u) * p.M`;
      lines.push(`let av${q} = ${vecA ? w4(`a[(${base} + r0) >> 2u]`) : V4(range(4).map((t) => `a[${base} + ri${t}]`))};`);
    }
  }
  // ---- B block ----
  // row-major B: bv{kk}_{h} = B[k+kk, cols c0+4h..];  transposed B: bt{j} = B[col j, k..k+3]
  if (!transB) {
    for (const kk of range(4))
      for (const h of range(2)) {
        const base = `bB + (k + ${kk}u) * p.N`;
        lines.push(
          `let bv${kk}_${h} = ${vecB ? w4(`b[(${base}) / 4u + min(c4 + ${h}u, n4 - 1u)]`) : V4(range(4).map((t) => `b[${base} + cj${4 * h + t}]`))};`,
        );
      }
  } else {
    for (const j of range(8)) {
      const base = `bB + cj${j} * p.K + k`;
      lines.push(`let bt${j} = ${vecB ? w4(`b[(${base}) >> 2u]`) : V4(range(4).map((t) => `b[${base} + ${t}u]`))};`);
    }
  }
  const brow = (kk: number, h: number) =>
    transB ? V4(range(4).map((t) => `bt${4 * h + t}[${kk}]`)) : `bv${kk}_${h}`;
  const aval = (i: number, kk: number) => (transA ? `av${kk}[${i}]` : `av${i}[${kk}]`);
  for (const kk of range(4)) {
    for (const h of range(2)) lines.push(`let b${kk}${h} = ${brow(kk, h)};`);
    for (const i of range(4)) {
      lines.push(`{ let s = vec4<f32>(${aval(i, kk)});`);
      for (const h of range(2)) lines.push(`  acc${i}_${h} = fma(s, b${kk}${h}, acc${i}_${h});`);
      lines.push('}');
    }
  }
  // ---- scalar tail for K % 4 ----
  const tail: string[] = [];
  for (const i of range(4)) {
    const idx = transA ? `bA + k * p.M + ri${i}` : `bA + ri${i} * p.K + k`;
    tail.push(`let ta${i} = vec4<f32>(${elA(idx)});`);
  }
  for (const h of range(2)) {
    const el = (j: number) => elB(transB ? `bB + cj${j} * p.K + k` : `bB + k * p.N + cj${j}`);
    tail.push(`let tb${h} = vec4<f32>(${range(4).map((t) => el(4 * h + t)).join(', ')});`);
  }
  for (const i of range(4)) for (const h of range(2)) tail.push(`acc${i}_${h} = fma(ta${i}, tb${h}, acc${i}_${h});`);
  // ---- writes ----
  const writes: string[] = [];
  for (const i of range(4))
    for (const h of range(2))
      for (const t of range(4)) {
        const col = `c0 + ${4 * h + t}u`;
        const v = `acc${i}_${h}[${t}]`;
        const val = half?.out === 'f16' ? `bitcast<vec2<f16>>(f32ToF16Bits(bitcast<u32>(${v})))[0]` : v;
        writes.push(`if (r0 + ${i}u < p.M && ${col} < p.N) { c[cb + (r0 + ${i}u) * p.N + ${col}] = ${val}; }`);
      }
  const T = half ? 'f16' : 'f32';
  const name = `matmul_register_${transA ? 't' : 'n'}${transB ? 't' : 'n'}_${vecA ? 'v' : 's'}${vecB ? 'v' : 's'}${half ? `_f16_${half.out}` : ''}`;
  const k = kernel(
    name,
    /* wgsl */ `${half ? 'enable f16;' : ''}
struct P { M: u32, N: u32, K: u32, sA: u32, sB: u32, sC: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<${vecA ? `vec4<${T}>` : T}>;
@group(0) @binding(2) var<storage, read> b: array<${vecB ? `vec4<${T}>` : T}>;
@group(0) @binding(3) var<storage, read_write> c: array<${half?.out ?? 'f32'}>;
${half?.out === 'f16' ? F32_TO_F16_BITS : ''}
@compute @workgroup_size(${REG_WG[0]}, ${REG_WG[1]})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r0 = gid.y * ${REG_TM}u;
  let c0 = gid.x * ${REG_TN}u;
  if (r0 >= p.M || c0 >= p.N) { return; }
  let bA = gid.z * p.sA;
  let bB = gid.z * p.sB;
  let cb = gid.z * p.sC;
  // clamped row/column indices: reads past the edge repeat the last row/column, writes are guarded
${range(4).map((i) => `  let ri${i} = min(r0 + ${i}u, p.M - 1u);`).join('\n')}
${range(8).map((j) => `  let cj${j} = min(c0 + ${j}u, p.N - 1u);`).join('\n')}
  let c4 = c0 / 4u;
  let n4 = (p.N + 3u) / 4u;
${range(4).map((i) => `  var acc${i}_0 = vec4<f32>(0.0);\n  var acc${i}_1 = vec4<f32>(0.0);`).join('\n')}
  let K4 = p.K & ~3u;
  var k = 0u;
  for (; k < K4; k += 4u) {
    ${lines.join('\n    ')}
  }
  for (; k < p.K; k++) {
    ${tail.join('\n    ')}
  }
  ${writes.join('\n  ')}
}`,
    ['r', 'r', 'rw'],
  );
  return half ? f16Kernel(k) : k;
}
