// Products of f16 operands (f32 accumulation, f16 or f32 output) against the float64 reference, on
// both f16 variants, every transpose, vec4 and scalar loads, sizes off the 32×64 tile; gradients
// through the casts; the autotuner's choice between the variants.
//
// Tolerance, per product C = op(A)·op(B) with inner size K, from the error analysis of a dot product
// (Higham, Accuracy and Stability of Numerical Algorithms, §3.1): both sides use the same f16
// operands, the GPU sums in f32 (|fl(C) − C| ≤ γ_K·|A||B| elementwise, γ_K = K·u32/(1 − K·u32),
// u32 = 2^-24) and an f16 output is rounded once more (≤ u16 = 2^-11 relative). In the Frobenius
// norm that gpucheck measures:  rel ≤ u16 + (1 + u16)·γ_K·‖|A||B|‖ / ‖A·B‖  (u16 term only for f16
// outputs). The gradients are products too (dA: inner N, dB: inner M), bounded the same way.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { gpucheck, gradcheck, precompile } from '../../engine/index.ts';
import { reloadAutotune, setAutotune } from '../../engine/autotune.ts';
import { gpuSync } from '../../engine/device.ts';
import { projection } from '../../engine/gradcheck.ts';
import { roundF16 } from '../../engine/half.ts';
import { matmulRef } from '../../engine/reference/matmul.ts';
import { matmulRegister } from '../../kernels/matmul/register.ts';
import { input, rng } from '../util.ts';

const U16 = 2 ** -11;
const U32 = 2 ** -24;
const r = rng(1617);
afterAll(() => E.setMatmulVariant(null));

const norm = (x: ArrayLike<number>) => Math.sqrt(Array.from(x).reduce((s, v) => s + v * v, 0));

/** The bound above for P (m×k, row-major) · Q (k×n). */
function bound(P: Float64Array, Q: Float64Array, m: number, n: number, k: number, f16Out: boolean): number {
  const C = matmulRef(P, Q, 1, m, n, k, false, false, 0, 0);
  const abs = matmulRef(P.map(Math.abs), Q.map(Math.abs), 1, m, n, k, false, false, 0, 0);
  const gamma = (k * U32) / (1 - k * U32);
  return (f16Out ? U16 : 0) + (1 + U16) * gamma * (norm(abs) / norm(C));
}

/** Row-major op(X) of a stored [r, c] matrix. */
function op(x: ArrayLike<number>, rows: number, cols: number, t: boolean): Float64Array {
  if (!t) return Float64Array.from(x);
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = x[i * cols + j]!;
  return out;
}

/** Forward and gradient bounds of toF32(matmul(toF16(a), toF16(b))) as gpucheck projects it (seed 11). */
function bounds(a: ArrayLike<number>, b: ArrayLike<number>, sa: number[], sb: number[], tA: boolean, tB: boolean, f16Out: boolean) {
  const [ar, ac] = [sa.reduce((x, y) => x * y, 1) / sa[sa.length - 1]!, sa[sa.length - 1]!];
  const [br, bc] = sb;
  const A = op(Array.from(a, roundF16), ar, ac, tA);
  const B = op(Array.from(b, roundF16), br!, bc!, tB);
  const [M, K] = tA ? [ac, ar] : [ar, ac];
  const N = tB ? br! : bc!;
  // the output gradient reaches the product rounded to f16 (the backward of toF32 is toF16)
  const G = projection([M, N], 11).map(roundF16);
  const fwd = bound(A, B, M, N, K, f16Out);
  const dA = bound(G, op(B, K, N, true), M, K, N, true); // G·op(B)ᵀ, stored f16
  const dB = bound(op(A, M, K, true), G, K, N, M, true); // op(A)ᵀ·G
  return { fwd, bwd: Math.max(dA, dB) };
}

const cases: [number[], number[], boolean, boolean][] = [
  [[7, 5], [5, 9], false, false], // nothing a multiple of 4: scalar f16 loads, K tail
  [[33, 20], [20, 68], false, false], // vec4<f16> loads, edges past the 32×64 tile
  [[12, 8], [12, 20], true, false], // Aᵀ vec4 along M
  [[13, 7], [13, 9], true, false],
  [[8, 12], [20, 12], false, true], // Bᵀ vec4 along K
  [[5, 7], [9, 5], true, true],
  [[70, 301], [301, 66], false, false], // a long K
  [[2, 6, 8], [8, 12], false, false], // a shared right operand: one [12, 8]·[8, 12] product
  [[130, 48], [48, 260], false, false], // several 128×128 subgroup-matrix tiles and their edges
  [[36, 150], [300, 36], true, true],
  [[128, 48], [48, 256], false, false], // whole 128×128 tiles: the direct-load variant runs
  [[64, 128], [256, 64], true, true],
  [[64, 32], [32, 192], false, false], // whole 64×64 tiles but not 128×128: sgmat64d loads directly, sgmat128d stages
];

for (const variant of E.MATMUL_F16_VARIANTS) {
  describe(`f16 matmul, variant ${variant}`, () => {
    for (const [ci, [sa, sb, tA, tB]] of cases.entries())
      for (const out of ['f16', 'f32'] as const) {
        it(`[${sa}]${tA ? 'ᵀ' : ''} · [${sb}]${tB ? 'ᵀ' : ''} → ${out}`, async (ctx) => {
          // the subgroup-matrix variants run where the adapter has matrix units (not lavapipe)
          if (!E.matmulF16Variants(gpuSync().info).includes(variant)) ctx.skip();
          E.setMatmulVariant(variant);
          // every variant multiplies the same inputs per case (and adding a case changes no other);
          // inputs are f32 values so that both sides round them to f16 once (the GPU tensor is f32
          // before toF16: float64 → f32 → f16 differs from float64 → f16 near f16 midpoints)
          const rc = rng(1617 + 2 * ci + (out === 'f16' ? 1 : 0));
          const f32 = (x: ReturnType<typeof input>) => ({ ...x, data: Float64Array.from(x.data, Math.fround) });
          const ia = f32(input(rc, sa));
          const ib = f32(input(rc, sb));
          const f = (a: E.Tensor, b: E.Tensor) => {
            const y = E.matmul(E.toF16(a), E.toF16(b), { transA: tA, transB: tB, out });
            expect(y.dtype).toBe(out);
            return out === 'f16' ? E.toF32(y) : y;
          };
          const tol = bounds(ia.data, ib.data, sa, sb, tA, tB, out === 'f16');
          // (f16 outputs mostly agree exactly: both sides round the same sums to f16)
          await gpucheck(f, [ia, ib], { fwdTol: tol.fwd, bwdTol: tol.bwd });
        });
      }
  });
}

describe('f16 matmul gradients and errors', () => {
  it('gradcheck through the casts (f16 and f32 outputs, transposes)', () => {
    for (const out of ['f16', 'f32'] as const)
      for (const [tA, tB] of [[false, false], [true, true]] as const) {
        const f = (a: E.Tensor, b: E.Tensor) => {
          const y = E.matmul(E.toF16(a), E.toF16(b), { transA: tA, transB: tB, out });
          return out === 'f16' ? E.toF32(y) : y;
        };
        gradcheck(f, [input(r, tA ? [5, 3] : [3, 5]), input(r, tB ? [4, 5] : [5, 4])]);
      }
  });
  it('f16 operands give f16 gradients', () => {
    const a = E.tensor(input(r, [3, 5]).data, [3, 5], { dtype: 'f16', requiresGrad: true });
    const b = E.tensor(input(r, [5, 2]).data, [5, 2], { dtype: 'f16', requiresGrad: true });
    E.backward(E.sum(E.sum(E.matmul(a, b, { out: 'f32' }), 0), 0));
    expect([a.grad!.dtype, b.grad!.dtype]).toEqual(['f16', 'f16']);
  });
  it('rejects mixed operands and f16 output from f32 operands, naming the op', () => {
    const a = E.tensor([1, 2, 3, 4], [2, 2]);
    const h = E.toF16(a);
    expect(() => E.matmul(a, h)).toThrow(/matmul: operands Tensor#\d+\(f32\[2,2\].* and Tensor#\d+\(f16\[2,2\].* differ in dtype; cast one with toF16 or toF32/);
    expect(() => E.matmul(a, a, { out: 'f16' })).toThrow(/matmul: out f16 needs f16 operands/);
  });
  it('every f16 specialisation compiles', async () => {
    for (const transA of [false, true])
      for (const transB of [false, true])
        for (const vecA of [false, true])
          for (const vecB of [false, true])
            for (const out of ['f16', 'f32'] as const) await precompile(matmulRegister({ transA, transB, vecA, vecB, half: { out } }));
  });
});

describe('f16 matmul variant choice', () => {
  it('is the f16 kernel where the adapter has shader-f16, else widening', () => {
    const info = { adapter: 'x', backend: 'x', limits: {}, isSoftware: true, subgroupSize: 8, subgroupMatrix: null };
    expect(E.chooseMatmulF16Variant({ ...info, features: ['shader-f16'] })).toBe('f16');
    expect(E.chooseMatmulF16Variant({ ...info, features: [] })).toBe('widen');
  });
  it('is the matrix units where the probe found a working f16 → f32 configuration', () => {
    const cfg = { component: 'f16', result: 'f32', M: 16, N: 16, K: 16 };
    const sgm = { configs: [cfg], syntax: { load: 'template', store: 'template', index: 'local' } as const, builtinIndex: true, f16: cfg, subgroupMaxSize: 32, problem: null };
    const gpu = { adapter: 'x', backend: 'x', limits: { maxComputeWorkgroupStorageSize: 49152 }, isSoftware: false, subgroupSize: 32, features: ['shader-f16'], subgroupMatrix: sgm };
    expect(E.chooseMatmulF16Variant(gpu, { batch: 1, M: 4096, N: 4096, K: 64 })).toBe('sgmat128');
    expect(E.chooseMatmulF16Variant(gpu, { batch: 1, M: 64, N: 64, K: 64 })).toBe('sgmat64');
    expect(E.matmulF16Variants(gpu)).toEqual(E.MATMUL_F16_VARIANTS);
    // workgroup memory (staged tiles, ×2 double-buffered, + the f32 result scratch) within the limit:
    // sgmat128db needs 41,984 bytes, sgmat128k64 39,936, sgmat128s8 27,136, sgmat128 23,040, sgmat64 13,824
    expect(E.matmulF16Variants({ ...gpu, limits: { maxComputeWorkgroupStorageSize: 32768 } })).not.toContain('sgmat128db');
    expect(E.matmulF16Variants({ ...gpu, limits: { maxComputeWorkgroupStorageSize: 32768 } })).toContain('sgmat128s8');
    expect(E.matmulF16Variants({ ...gpu, limits: {} })).toEqual(['f16', 'widen', 'sgmat64', 'sgmat64p', 'sgmat64d', 'sgmat128d', 'sgmat64b']);
    // the builtin-index variants only where the probe multiplied with it and it differs from the plain spelling
    expect(E.matmulF16Variants({ ...gpu, subgroupMatrix: { ...sgm, builtinIndex: false } })).not.toContain('sgmat64b');
    expect(E.matmulF16Variants({ ...gpu, subgroupMatrix: { ...sgm, syntax: { ...sgm.syntax, index: 'builtin' } } })).not.toContain('sgmat128b');
    // no working syntax, or a subgroup size the workgroups are not a multiple of: the f16 kernel
    expect(E.chooseMatmulF16Variant({ ...gpu, subgroupMatrix: { ...sgm, syntax: null, problem: 'x' } })).toBe('f16');
    expect(E.matmulF16Variants({ ...gpu, subgroupSize: 16, subgroupMatrix: { ...sgm, subgroupMaxSize: 128 } })).toEqual(['f16', 'widen', 'sgmat128s8']);
  });
  it('refuses a forced subgroup-matrix variant on an adapter without matrix units, saying why', (ctx) => {
    if (gpuSync().info.subgroupMatrix?.syntax) ctx.skip();
    E.setMatmulVariant('sgmat64');
    try {
      const a = E.toF16(E.tensor([1, 2, 3, 4], [2, 2]));
      expect(() => E.matmul(a, a)).toThrow(/matmul: the sgmat64 variant needs subgroup matrices/);
    } finally {
      E.setMatmulVariant(null);
    }
  });
  it('the autotuner measures every variant this adapter runs and caches the fastest', async () => {
    process.env.CSRM_AUTOTUNE_CACHE = join(mkdtempSync(join(tmpdir(), 'autotune-f16-')), 'cache.json');
    reloadAutotune();
    setAutotune(true);
    E.setMatmulVariant(null);
    try {
      const d = { batch: 1, M: 64, N: 64, K: 64 };
      const choice = (await E.tuneMatmulF16([d], { reps: 1 })).get(E.matmulF16Bucket(d))!;
      const entry = E.autotuneEntries().find((e) => e.bucket === E.matmulF16Bucket(d))!;
      const runs = gpuSync().info.features.includes('shader-f16') ? ['f16', 'widen'] : ['widen'];
      // plus the subgroup-matrix tiles where the adapter has matrix units (an H200: all three)
      runs.push(...E.matmulF16Variants(gpuSync().info).filter((v) => v.startsWith('sgmat')));
      expect(Object.keys(entry.timings).sort()).toEqual(runs.sort());
      expect(entry.choice).toBe(choice);
      expect(E.matmulF16VariantFor(d)).toBe(choice);
    } finally {
      setAutotune(false);
      delete process.env.CSRM_AUTOTUNE_CACHE;
      reloadAutotune();
    }
  });
});
