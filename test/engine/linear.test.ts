import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { gpucheck, gradcheck } from '../../engine/index.ts';
import { input, randData, rng } from '../util.ts';

const r = rng(43);

describe('linear', () => {
  it('x·Wᵀ + b vs float64, gradcheck, 1-D and batched inputs', async () => {
    for (const xs of [[5, 7], [2, 3, 7], [7]]) {
      const f = (x: E.Tensor, w: E.Tensor, b: E.Tensor) => E.linear(x, w, b);
      const ins = () => [input(r, xs), input(r, [9, 7]), input(r, [9])];
      expect(gradcheck(f, ins()).ok).toBe(true);
      await gpucheck(f, ins(), { fwdTol: 1e-4 });
    }
  });
  it('rejects mismatched shapes', () => {
    const x = E.tensor(randData(r, 6), [2, 3]);
    const w = E.tensor(randData(r, 8), [2, 4]);
    expect(() => E.linear(x, w)).toThrow(/linear: x \[2, 3\] does not match W \[2, 4\]/);
    x.dispose();
    w.dispose();
  });
});
