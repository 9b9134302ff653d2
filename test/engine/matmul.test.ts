// Every matmul variant against the float64 reference: all transposes, batched and broadcast batch,
// shapes that are not multiples of the tiles (and of 4, which switches vec4 loads to scalar), 1×1.
import { afterAll, describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { gpucheck, precompile } from '../../engine/index.ts';
import { gpuSync } from '../../engine/device.ts';
import { matmulBroadcast } from '../../kernels/matmul/broadcast.ts';
import { matmulRegister } from '../../kernels/matmul/register.ts';
import { matmulTiled } from '../../kernels/matmul/tiled.ts';
import { input, rng } from '../util.ts';

const r = rng(505);
afterAll(() => E.setMatmulVariant(null));

const cases: [number[], number[], boolean, boolean][] = [
  [[7, 5], [5, 9], false, false], // nothing a multiple of 4: scalar loads, K tail
  [[8, 12], [12, 16], false, false], // all multiples of 4: vec4 loads
  [[33, 20], [20, 68], false, false], // vec4, edges past the 32×64 register tile
  [[12, 8], [12, 20], true, false], // Aᵀ vec4 along M
  [[13, 7], [13, 9], true, false],
  [[8, 12], [20, 12], false, true], // Bᵀ vec4 along K
  [[7, 6], [9, 6], false, true],
  [[12, 8], [20, 12], true, true],
  [[5, 7], [9, 5], true, true],
  [[3, 6, 5], [3, 5, 4], false, false], // batched
  [[2, 6, 8], [8, 12], false, false], // shared right operand
  [[4, 5], [2, 5, 3], false, false], // shared left operand
  [[2, 5, 6], [2, 3, 5], true, true],
  [[1, 1], [1, 1], false, false],
  [[1, 9], [9, 1], false, false],
  [[17, 35], [35, 18], false, false], // crosses the 16×16 tile
  // the broadcast kernels run where K % 4 = 0 (and M % 4 = 0 for Aᵀ, N % 4 = 0 for B [K, N]); rows
  // and columns past their 16- or 32-row, 32-column tiles; N % 4 ≠ 0 stores scalars
  [[37, 20], [20, 44], false, false],
  [[20, 36], [20, 52], true, false],
  [[41, 24], [30, 24], false, true],
  [[24, 44], [30, 24], true, true],
  [[3, 21, 8], [3, 8, 36], false, false],
  [[2, 13, 16], [16, 20], false, false],
];

for (const variant of E.MATMUL_VARIANTS) {
  describe(`matmul variant ${variant}`, () => {
    for (const [sa, sb, tA, tB] of cases) {
      it(`[${sa}]${tA ? 'ᵀ' : ''} · [${sb}]${tB ? 'ᵀ' : ''}`, async () => {
        E.setMatmulVariant(variant);
        const f = (a: E.Tensor, b: E.Tensor) => E.matmul(a, b, { transA: tA, transB: tB });
        // forward and both gradients (the backward matmuls run on the same variant)
        await gpucheck(f, [input(r, sa), input(r, sb)], { fwdTol: 1e-4, bwdTol: 1e-4 });
      });
    }
    it('a larger problem with a long K', async () => {
      E.setMatmulVariant(variant);
      const f = (a: E.Tensor, b: E.Tensor) => E.matmul(a, b);
      await gpucheck(f, [input(r, [70, 301]), input(r, [301, 66])], { fwdTol: 1e-4, backward: false });
    });
  });
}

describe('matmul variant choice', () => {
  it('picks register tiling except for small products on hardware adapters (as measured)', () => {
    const small = { batch: 1, M: 64, N: 64, K: 64 };
    const big = { batch: 1, M: 1024, N: 1024, K: 1024 };
    const info = { adapter: 'x', backend: 'x', features: [], limits: {}, subgroupSize: null, subgroupMatrix: null };
    expect(E.chooseMatmulVariant({ ...info, isSoftware: true }, small)).toBe('register');
    expect(E.chooseMatmulVariant({ ...info, isSoftware: true }, big)).toBe('register');
    // lavapipe with its fixed subgroups of 8: the subgroup-broadcast tile, except for products under 256 outputs
    expect(E.chooseMatmulVariant({ ...info, isSoftware: true, subgroupSize: 8 }, big)).toBe('broadcast');
    expect(E.chooseMatmulVariant({ ...info, isSoftware: true, subgroupSize: 8 }, { batch: 1, M: 16, N: 3, K: 64 })).toBe('register');
    expect(E.chooseMatmulVariant({ ...info, isSoftware: false }, small)).toBe('tiled');
    expect(E.chooseMatmulVariant({ ...info, isSoftware: false }, big)).toBe('register');
  });
  it('broadcast runs only where its layout conditions hold, else the register tile', () => {
    E.setMatmulVariant('broadcast');
    try {
      const want = gpuSync().info.subgroupSize === null ? 'register' : 'broadcast';
      expect(E.matmulVariantRun({ batch: 1, M: 37, N: 44, K: 20 })).toBe(want);
      expect(E.matmulVariantRun({ batch: 1, M: 37, N: 44, K: 21 })).toBe('register'); // K % 4
      expect(E.matmulVariantRun({ batch: 1, M: 37, N: 45, K: 20 })).toBe('register'); // N % 4 with B [K, N]
      expect(E.matmulVariantRun({ batch: 1, M: 37, N: 45, K: 20 }, false, true)).toBe(want); // B [N, K]: any N
      expect(E.matmulVariantRun({ batch: 1, M: 37, N: 44, K: 20 }, true, false)).toBe('register'); // M % 4 with Aᵀ
    } finally {
      E.setMatmulVariant(null);
    }
  });
  it('rejects an unknown override', () => {
    expect(() => E.setMatmulVariant('fast' as E.MatmulVariant)).toThrow(/setMatmulVariant: unknown variant "fast"/);
  });
  it('every specialisation compiles', async () => {
    for (const transA of [false, true])
      for (const transB of [false, true]) {
        await precompile(matmulTiled(transA, transB));
        for (const vecA of [false, true])
          for (const vecB of [false, true]) await precompile(matmulRegister({ transA, transB, vecA, vecB }));
        const SG = gpuSync().info.subgroupSize;
        if (SG !== null)
          for (const R of [16, 32])
            for (const adj of [false, true])
              for (const vecC of [false, true]) await precompile(matmulBroadcast({ aRows: !transA, bRows: transB, R, TN: adj ? 1 : 2, adj, SG, vecC }));
      }
  });
  it('rejects bad inputs naming the op and shapes', () => {
    const a = E.tensor(new Array(6).fill(1), [2, 3]);
    const b = E.tensor(new Array(6).fill(1), [3, 2], { dtype: 'i32' });
    const c = E.tensor(new Array(3).fill(1), [3]);
    expect(() => E.matmul(a, b)).toThrow(/matmul: expected dtype f32\|f16 but got Tensor#\d+\(i32\[3,2\]/);
    expect(() => E.matmul(a, c)).toThrow(/matmul: operands must have rank ≥ 2 \(A \[2, 3\], B \[3\]\)/);
    a.dispose();
    expect(() => E.matmul(a, c)).toThrow(/matmul: use of disposed tensor/);
    b.dispose();
    c.dispose();
  });
});
