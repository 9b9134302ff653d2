import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from '../../engine/index.ts';
import { gpucheck, gradcheck } from '../../engine/index.ts';
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
