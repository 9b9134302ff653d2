import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from '../../engine/index.ts';
import { gpucheck, gradcheck } from '../../engine/index.ts';
import { permuteVia } from '../../engine/ops/shape.ts';
import { expectSteadyMemory, input, oddDim, rng } from '../util.ts';

const r = rng(101);

describe('permute / transpose', () => {
  const cases: [number[], number[]][] = [
    [[3, 5], [1, 0]],
    [[2, 3, 4], [2, 0, 1]],
    [[1, 7, 1, 3], [3, 1, 0, 2]], // size-1 dims
    [[4, 3, 2, 5, 3], [4, 2, 0, 3, 1]],
    [[300], [0]], // more than one workgroup, identity
  ];
  for (const [shape, dims] of cases) {
    it(`permute [${shape}] by [${dims}]`, async () => {
      const f = (x: E.Tensor) => E.permute(x, dims);
      expect(gradcheck(f, [input(r, shape)]).ok).toBe(true);
      await gpucheck(f, [input(r, shape)]);
    });
  }
  it('random shapes and permutations (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.integer(), async (rank, seed) => {
        const rr = rng(seed);
        const shape = Array.from({ length: rank }, () => oddDim(rr, 9));
        const dims = [...shape.keys()].sort(() => rr.uniform() - 0.5);
        const f = (x: E.Tensor) => E.permute(x, dims);
        gradcheck(f, [input(rr, shape)]);
        await gpucheck(f, [input(rr, shape)]);
      }),
      { numRuns: 10 },
    );
  });
  // The tile kernel (axes coalescing into ≤ 4): each lane-width variant, scalar words with a
  // strided column (transposes), vec4 words (inner axis kept) and 4 × 4 quads (transposes by 4s), blocks on one and two axes, rows
  // wider than a workgroup's column span; and the rank walk where five axes stay.
  // Comments: coalesced [A0, A1, R, W] in words, lane width.
  const tileCases: [number[], number[]][] = [
    [[37, 3], [1, 0]], // [1, 1, 3, 37], column stride 3, lx 16
    [[70, 13], [1, 0]], // [1, 1, 13, 70], lx 32
    [[11, 4, 27], [1, 0, 2]], // [1, 4, 11, 27], column stride 1 but 27 % 4 ≠ 0: scalar, lx 8
    [[6, 33, 13], [1, 0, 2]], // [1, 33, 6, 13], scalar, lx 4
    [[5, 41, 24], [1, 0, 2]], // [1, 41, 5, 6] vec4, lx 4
    [[2, 11, 5, 8], [0, 2, 1, 3]], // [2, 5, 11, 2] vec4, lx 4: blocks on two axes (attention's [B, T, H, D] → [B, H, T, D])
    [[2, 300, 9], [0, 2, 1]], // [1, 2, 9, 300], lx 64: two column blocks of 256
    [[8, 12], [1, 0]], // quads: [1, 1, 12, 8] as 3 × 2 quads (sR 1, sC 12), lx 4
    [[36, 20], [1, 0]], // quads 5 × 9, lx 4
    [[3, 16, 24], [0, 2, 1]], // quads in 3 blocks: [1, 3, 24, 16]
    [[2, 3, 8, 12], [1, 0, 3, 2]], // quads in blocks on two axes: [3, 2, 12, 8]
    [[2, 3, 4, 5, 6], [4, 3, 2, 1, 0]], // five axes: the rank walk
  ];
  for (const [shape, dims] of tileCases) {
    it(`tile kernel: permute [${shape}] by [${dims}] (forward, backward, gradcheck; equals the rank walk)`, async () => {
      const f = (x: E.Tensor) => E.permute(x, dims);
      expect(gradcheck(f, [input(r, shape)]).ok).toBe(true);
      await gpucheck(f, [input(r, shape)]);
      const data = input(r, shape);
      const x = E.tensor(data.data, shape);
      const [a, b] = [permuteVia(x, dims, 'auto'), permuteVia(x, dims, 'walk')];
      expect(Array.from(await E.toArray(a))).toEqual(Array.from(await E.toArray(b)));
      [x, a, b].forEach((t) => t.dispose());
    });
  }
  it('tile kernel copies i32 words; more than 65,535 blocks falls back to the rank walk', async () => {
    const ids = E.tensor(Array.from({ length: 2 * 3 * 40 }, (_, i) => i * 7 - 100), [2, 3, 40], { dtype: 'i32' });
    const t = E.permute(ids, [1, 0, 2]);
    const want = Array.from({ length: 240 }, (_, i) => {
      const [j, a, c] = [Math.floor(i / 80), Math.floor(i / 40) % 2, i % 40];
      return (a * 120 + j * 40 + c) * 7 - 100;
    });
    expect(Array.from(await E.toArray(t))).toEqual(want);
    [ids, t].forEach((v) => v.dispose());
    await gpucheck((x: E.Tensor) => E.permute(x, [0, 2, 1]), [input(r, [70001, 2, 3])]);
    // quads past one column block (275 quads > 256) and back (its backward: 8 × 1100 → 1100 × 8)
    await gpucheck((x: E.Tensor) => E.transpose(x, 0, 1), [input(r, [1100, 8])]);
  });
  it('transpose swaps two axes (negative axes allowed) and copies i32 data', async () => {
    const f = (x: E.Tensor) => E.transpose(x, 0, -1);
    expect(gradcheck(f, [input(r, [3, 2, 5])]).ok).toBe(true);
    await gpucheck(f, [input(r, [3, 2, 5])]);
    const ids = E.tensor([1, 2, 3, 4, 5, 6], [2, 3], { dtype: 'i32' });
    const t = E.transpose(ids, 0, 1);
    expect(t.dtype).toBe('i32');
    expect(await E.toArray(t)).toEqual([1, 4, 2, 5, 3, 6]);
    ids.dispose();
    t.dispose();
  });
  it('rejects bad dims naming the op and shape', () => {
    const x = E.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(() => E.permute(x, [0, 0])).toThrow(/permute: dims \[0, 0\] are not a permutation of the axes of \[2, 3\]/);
    expect(() => E.permute(x, [0])).toThrow(/permute: dims \[0\]/);
    expect(() => E.transpose(x, 0, 2)).toThrow(/transpose: axis 2 out of range for shape \[2, 3\]/);
    x.dispose();
    expect(() => E.transpose(x, 0, 1)).toThrow(/transpose: use of disposed tensor/);
  });
});

describe('slice', () => {
  const cases: [number[], number, number, number][] = [
    [[7, 5], 0, 2, 6],
    [[7, 5], 1, 0, 1],
    [[2, 9, 3], 1, 3, 9],
    [[2, 9, 3], -1, 1, 2],
    [[1, 1], 0, 0, 1],
    [[3, 300], 1, 17, 290], // crosses workgroups
    [[4, 5], 0, 2, 2], // empty slice
    // runs of ≥ 32 words take the row kernels (kernels/shape/rows.ts): offsets, strides, odd lengths
    [[5, 3, 40], 1, 1, 3],
    [[3, 37], 1, 2, 35],
    [[4, 33], 1, 0, 33],
    [[2, 700], 1, 5, 643], // a row wider than one workgroup's span
  ];
  for (const [shape, axis, s, e] of cases) {
    it(`slice [${shape}] axis ${axis} [${s}, ${e})`, async () => {
      const f = (x: E.Tensor) => E.slice(x, axis, s, e);
      expect(gradcheck(f, [input(r, shape)]).ok).toBe(true);
      if (e > s) await gpucheck(f, [input(r, shape)]);
    });
  }
  it('row kernels past 65,535 rows (the grid folds rows into z): forward and backward against float64', async () => {
    await gpucheck((x: E.Tensor) => E.slice(x, 1, 3, 37), [input(r, [70001, 41])]);
    await gpucheck((x: E.Tensor) => E.slice(x, 1, 4, 36), [input(r, [70001, 40])]); // in vec4 words
  });
  it('rejects a bad range or axis', () => {
    const x = E.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(() => E.slice(x, 1, 2, 4)).toThrow(/slice: range \[2, 4\) is invalid for axis 1 of \[2, 3\]/);
    expect(() => E.slice(x, 1, 2, 1)).toThrow(/slice: range/);
    expect(() => E.slice(x, 3, 0, 1)).toThrow(/slice: axis 3 out of range for shape \[2, 3\]/);
    x.dispose();
    expect(() => E.slice(x, 0, 0, 1)).toThrow(/slice: use of disposed tensor/);
  });
});

describe('concat', () => {
  const cases: [number[][], number][] = [
    [[[2, 3], [4, 3]], 0],
    [[[2, 3], [2, 1], [2, 5]], 1],
    [[[3, 2, 5], [3, 7, 5]], -2],
    [[[1], [1]], 0],
    [[[2, 130], [2, 131]], 1],
    [[[2, 40], [3, 40]], 0], // one row of 80 and one of 120 words, the second at an offset
    [[[3, 2, 17], [3, 5, 17]], 1], // rows of 34 and 85 words into rows of 119
  ];
  for (const [shapes, axis] of cases) {
    it(`concat ${shapes.map((s) => `[${s}]`).join(' ')} axis ${axis}`, async () => {
      const f = (...xs: E.Tensor[]) => E.concat(xs, axis);
      expect(gradcheck(f, shapes.map((s) => input(r, s))).ok).toBe(true);
      await gpucheck(f, shapes.map((s) => input(r, s)));
    });
  }
  it('rejects mismatched shapes and dtypes', () => {
    const a = E.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = E.tensor([1, 2, 3, 4], [2, 2]);
    const c = E.tensor([1, 2, 3], [1, 3], { dtype: 'i32' });
    expect(() => E.concat([a, b], 0)).toThrow(/concat: shapes \[2, 3\], \[2, 2\] differ outside axis 0/);
    expect(() => E.concat([a, c], 0)).toThrow(/concat: dtypes differ \(f32, i32\)/);
    expect(() => E.concat([a, b], 2)).toThrow(/concat: axis 2 out of range for shape \[2, 3\]/);
    expect(() => E.concat([], 0)).toThrow(/concat: needs at least one tensor/);
    b.dispose();
    expect(() => E.concat([a, b], 1)).toThrow(/concat: use of disposed tensor/);
    a.dispose();
    c.dispose();
  });
  it('forward + backward in a scope leaves live bytes unchanged', async () => {
    const a = E.keep(E.randn([5, 3], { requiresGrad: true }));
    const b = E.keep(E.randn([5, 4], { requiresGrad: true }));
    const step = () =>
      E.scope(() => {
        const y = E.slice(E.transpose(E.concat([a, b], 1), 0, 1), 0, 1, 6);
        E.backward(E.sumAll(E.mul(y, y)));
        E.zeroGrad([a, b]);
      });
    await expectSteadyMemory(step);
    a.dispose();
    b.dispose();
  });
});
