import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { gpucheck, gradcheck, type CheckInput } from '../../engine/index.ts';
import { expectSteadyMemory, input, rng } from '../util.ts';
import type { Rng } from '../../engine/random.ts';

const r = rng(202);

/** A random 0/1 mask (never all-true or all-false for more than one element). */
function mask(rr: Rng, shape: number[], dtype: 'f32' | 'i32' | 'u32'): CheckInput {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Array.from({ length: n }, (_, i) => (n > 1 && i < 2 ? i : rr.uniform() < 0.5 ? 1 : 0));
  // an f32 mask must not be differentiated: perturbing 0 by eps would flip it
  return { shape, data, dtype, requiresGrad: false };
}

describe('where', () => {
  const cases: [number[], number[], number[]][] = [
    [[7, 13], [7, 13], [7, 13]],
    [[7, 1], [7, 13], [13]], // broadcast cond and b
    [[3, 1, 6], [1, 4, 1], [3, 4, 6]],
    [[1], [5, 3], []],
    [[300], [300], [1]],
    // axes that coalesce into ≤ 2 with rows of ≥ 32 take the row kernel (whereRowsKernel)
    [[7, 1], [7, 40], [40]],
    [[4, 1, 1], [4, 3, 40], [1]], // axes 1 and 2 merge: rows of 120
    [[2, 3, 40], [2, 3, 40], [2, 3, 40]], // one row of 240
    [[1], [50], []],
  ];
  for (const dtype of ['f32', 'i32', 'u32'] as const) {
    for (const [sc, sa, sb] of cases) {
      it(`${dtype} cond [${sc}], a [${sa}], b [${sb}]`, async () => {
        const f = (c: E.Tensor, a: E.Tensor, b: E.Tensor) => E.where(c, a, b);
        expect(gradcheck(f, [mask(r, sc, dtype), input(r, sa), input(r, sb)]).ok).toBe(true);
        await gpucheck(f, [mask(r, sc, dtype), input(r, sa), input(r, sb)]);
      });
    }
  }
  it('vec4 lanes with the condition along the row and b one value per row (own random stream)', async () => {
    const rr = rng(203);
    const f = (c: E.Tensor, a: E.Tensor, b: E.Tensor) => E.where(c, a, b);
    expect(gradcheck(f, [mask(rr, [36], 'u32'), input(rr, [5, 36]), input(rr, [5, 1])]).ok).toBe(true);
    await gpucheck(f, [mask(rr, [36], 'f32'), input(rr, [5, 36]), input(rr, [5, 1])]);
  });
  it('the row kernel past 65,535 rows (rows fold into the grid\'s z): forward and backward against float64', async () => {
    await gpucheck((c: E.Tensor, a: E.Tensor, b: E.Tensor) => E.where(c, a, b), [mask(r, [70001, 1], 'u32'), input(r, [70001, 33]), input(r, [33])]);
    await gpucheck((c: E.Tensor, a: E.Tensor, b: E.Tensor) => E.where(c, a, b), [mask(r, [70001, 1], 'f32'), input(r, [70001, 32]), input(r, [32])]); // vec4 lanes
  });
  it('treats −0.0 in an f32 mask as false and NaN as true, like the reference', async () => {
    const c = E.tensor([-0, 0, NaN, 2], [4]);
    const a = E.tensor([1, 1, 1, 1], [4]);
    const b = E.tensor([5, 5, 5, 5], [4]);
    const y = E.where(c, a, b);
    expect(await E.toArray(y)).toEqual([5, 5, 1, 1]);
    for (const t of [c, a, b, y]) t.dispose();
  });
  it('rejects bad inputs, naming the op and shapes', () => {
    const c = E.tensor([1, 0], [2], { dtype: 'i32' });
    const a = E.tensor([1, 2, 3], [3]);
    const ai = E.tensor([1, 2], [2], { dtype: 'i32' });
    expect(() => E.where(c, a, a)).toThrow(/where: shapes \[2\] and \[3\] do not broadcast/);
    expect(() => E.where(c, ai, ai)).toThrow(/where: expected dtype f32 but got Tensor#\d+\(i32\[2\]/);
    a.dispose();
    expect(() => E.where(c, a, a)).toThrow(/where: use of disposed tensor/);
    c.dispose();
    ai.dispose();
  });
});

describe('maskedFill', () => {
  const cases: [number[], number[]][] = [
    [[5, 9], [5, 9]],
    [[5, 9], [9]],
    [[2, 3, 70], [2, 1, 70]],
    [[1], [1]],
    [[5, 40], [40]], // row kernel: the mask's row stride is 0
    [[3, 50], [3, 50]],
  ];
  for (const dtype of ['u32', 'f32'] as const) {
    for (const [sx, sm] of cases) {
      it(`${dtype} mask [${sm}] into x [${sx}]`, async () => {
        const f = (x: E.Tensor, m: E.Tensor) => E.maskedFill(x, m, -1e4);
        expect(gradcheck(f, [input(r, sx), mask(r, sm, dtype)]).ok).toBe(true);
        await gpucheck(f, [input(r, sx), mask(r, sm, dtype)]);
      });
    }
  }
  it('−∞ and large values, an f32 mask with −0.0 (false) and NaN bits (true), row and rank-walk paths', async () => {
    for (const [sx, sm] of [[[6, 44], [44]], [[6, 44], [6, 1]], [[4, 37], [37]], [[3, 5], [5]], [[2, 3, 40], [2, 1, 40]]] as [number[], number[]][]) {
      const n = sx.reduce((a, b) => a * b, 1);
      const k = sm.reduce((a, b) => a * b, 1);
      const xs = Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i + 1)));
      const ms = Array.from({ length: k }, (_, i) => [0, -0, 1, NaN, 0.25][i % 5]!);
      for (const value of [-Infinity, 3e38, -7.5]) {
        const x = E.tensor(xs, sx);
        const m = E.tensor(ms, sm);
        const y = await E.toArray(E.maskedFill(x, m, value));
        // the mask's element of output i: broadcast over x's shape (sm aligned right)
        const pad = [...Array(sx.length - sm.length).fill(1), ...sm];
        const want = xs.map((v, i) => {
          let rem = i;
          let mi = 0;
          let mstride = 1;
          for (let d = sx.length - 1; d >= 0; d--) {
            const c = rem % sx[d]!;
            rem = Math.floor(rem / sx[d]!);
            if (pad[d] !== 1) mi += c * mstride;
            mstride *= pad[d]!;
          }
          const mv = ms[mi]!;
          return mv !== 0 ? Math.fround(value) : v; // NaN ≠ 0: true; −0.0 = 0: false
        });
        expect(y, `x [${sx}] mask [${sm}] value ${value}`).toEqual(want);
        for (const t of [x, m]) t.dispose();
      }
    }
  });
  it('rejects a mask larger than x and a non-f32 x', () => {
    const x = E.tensor([1, 2, 3], [3]);
    const m = E.tensor([1, 0, 1, 0, 1, 0], [2, 3], { dtype: 'u32' });
    const xi = E.tensor([1, 2, 3], [3], { dtype: 'i32' });
    expect(() => E.maskedFill(x, m, 0)).toThrow(/maskedFill: mask \[2, 3\] does not broadcast to x \[3\]/);
    expect(() => E.maskedFill(xi, m, 0)).toThrow(/maskedFill: expected dtype f32/);
    for (const t of [x, m, xi]) t.dispose();
  });
  it('forward + backward in a scope leaves live bytes unchanged', async () => {
    const x = E.keep(E.randn([4, 6], { requiresGrad: true }));
    const m = E.keep(E.tensor([1, 0, 0, 1, 0, 1], [6], { dtype: 'u32' }));
    const step = () =>
      E.scope(() => {
        E.backward(E.sumAll(E.where(m, E.maskedFill(x, m, 3), x)));
        E.zeroGrad([x]);
      });
    await expectSteadyMemory(step);
    x.dispose();
    m.dispose();
  });
});
