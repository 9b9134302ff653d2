import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { gpucheck, gradcheck } from '../../engine/index.ts';
import { input, rng } from '../util.ts';

const r = rng(7);

describe('reductions over an axis', () => {
  const cases: [number[], number][] = [
    [[5, 9], 1],
    [[5, 9], 0],
    [[3, 1, 7], 1],
    [[2, 3, 5], -1],
    [[4, 300], 1], // long rows: one workgroup per row
    [[1], 0],
  ];
  for (const kind of ['sum', 'mean', 'max'] as const) {
    for (const [shape, axis] of cases) {
      for (const keep of [false, true]) {
        const f = (x: E.Tensor) => E[kind](x, axis, keep);
        it(`${kind} [${shape}] axis ${axis} keepdims=${keep}`, async () => {
          expect(gradcheck(f, [input(r, shape)]).ok).toBe(true);
          await gpucheck(f, [input(r, shape)], { fwdTol: 1e-4, bwdTol: 1e-4 });
        });
      }
    }
  }
  it('sumAll and meanAll', async () => {
    for (const f of [E.sumAll, E.meanAll]) {
      gradcheck(f, [input(r, [3, 4, 5])]);
      await gpucheck(f, [input(r, [3, 4, 5])], { fwdTol: 1e-4 });
    }
  });
  it('rejects an axis out of range', () => {
    const x = E.tensor([1, 2, 3, 4], [2, 2]);
    expect(() => E.sum(x, 2)).toThrow(/sum: axis 2 out of range for shape \[2, 2\]/);
    x.dispose();
  });
});

describe('matmul', () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[7, 5], [5, 9], false, false],
    [[5, 7], [5, 9], true, false],
    [[7, 5], [9, 5], false, true],
    [[5, 7], [9, 5], true, true],
    [[3, 6, 5], [3, 5, 4], false, false], // batched
    [[2, 6, 5], [5, 3], false, false], // shared right operand
    [[2, 5, 6], [2, 3, 5], true, true],
    [[1, 1], [1, 1], false, false],
    [[33, 17], [17, 41], false, false], // not a multiple of the 32×32 tile
  ];
  for (const [sa, sb, tA, tB] of cases) {
    const f = (a: E.Tensor, b: E.Tensor) => E.matmul(a, b, { transA: tA, transB: tB });
    it(`[${sa}]${tA ? 'ᵀ' : ''} · [${sb}]${tB ? 'ᵀ' : ''}`, async () => {
      expect(gradcheck(f, [input(r, sa), input(r, sb)]).ok).toBe(true);
      await gpucheck(f, [input(r, sa), input(r, sb)], { fwdTol: 1e-4, bwdTol: 1e-4 });
    });
  }
  it('rejects mismatched inner dimensions', () => {
    const a = E.tensor(new Array(6).fill(1), [2, 3]);
    const b = E.tensor(new Array(8).fill(1), [4, 2]);
    expect(() => E.matmul(a, b)).toThrow(/matmul: inner dimensions differ: 3 vs 4/);
    a.dispose();
    b.dispose();
  });
});
