import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { gpucheck, gradcheck, precompile } from '../../engine/index.ts';
import { swigluBwdKernel, swigluFwdKernel } from '../../kernels/swiglu/swiglu.ts';
import { expectSteadyMemory, input, randData, rng } from '../util.ts';

const r = rng(32);

describe('swiglu', () => {
  it('compiles', async () => {
    await precompile(swigluFwdKernel);
    await precompile(swigluBwdKernel);
  });
  for (const shape of [[5, 11], [1], [2, 3, 7], [4, 257]]) {
    it(`[${shape}] forward/backward vs float64 and gradcheck`, async () => {
      expect(gradcheck(E.swiglu, [input(r, shape, 0.1, 3), input(r, shape)]).ok).toBe(true);
      await gpucheck(E.swiglu, [input(r, shape, 0.1, 3), input(r, shape)]);
    });
  }
  it('equals silu(gate) ⊙ up built from separate ops', async () => {
    const g = E.tensor(randData(r, 30, 0.1, 4), [5, 6]);
    const u = E.tensor(randData(r, 30), [5, 6]);
    const [a, b] = await E.scopeAsync(async () => [await E.read(E.swiglu(g, u)), await E.read(E.mul(E.silu(g), u))]);
    expect(E.relErr(a, b)).toBeLessThan(1e-6);
    g.dispose();
    u.dispose();
  });
  it('rejects mismatched shapes', () => {
    const g = E.tensor([1, 2, 3, 4], [2, 2]);
    const u = E.tensor([1, 2, 3, 4], [4]);
    expect(() => E.swiglu(g, u)).toThrow(/swiglu: gate \[2, 2\] and up \[4\]/);
    g.dispose();
    u.dispose();
  });
  it('forward+backward in a scope leaves live bytes unchanged', async () => {
    const g = E.keep(E.tensor(randData(r, 40), [8, 5], { requiresGrad: true }));
    const u = E.keep(E.tensor(randData(r, 40), [8, 5], { requiresGrad: true }));
    await expectSteadyMemory(() => {
      E.scope(() => E.backward(E.sumAll(E.swiglu(g, u))));
      E.zeroGrad([g, u]);
    });
    g.dispose();
    u.dispose();
  });
});
