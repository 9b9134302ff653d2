import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { gpucheck, gradcheck, precompile } from '../../engine/index.ts';
import { swigluBwdKernel, swigluFwdKernel } from '../../kernels/swiglu/swiglu.ts';
import { expectSteadyMemory, input, randData, rng } from '../util.ts';
import { gpuSync } from '../../engine/device.ts';
import { onLaunch } from '../../engine/runtime.ts';

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

describe('swigluLinear (the activation in the up projection\'s writes)', () => {
  const hasBroadcast = () => gpuSync().info.isSoftware && gpuSync().info.subgroupSize !== null;
  it('silu(gate) ⊙ x·Wᵀ on the GPU vs float64, forward and gradients, sizes off the tile (N % 4 = 0 fused, else composed); gradcheck', async () => {
    for (const [xs, out] of [[[3, 37, 20], 44], [[41, 12], 28], [[9, 16], 30]] as const) {
      const f = (gate: E.Tensor, x: E.Tensor, w: E.Tensor) => E.swigluLinear(gate, x, w);
      const ins = () => [input(r, [...xs.slice(0, -1), out]), input(r, [...xs]), input(r, [out, xs[xs.length - 1]!])];
      await gpucheck(f, ins(), { fwdTol: 1e-5, bwdTol: 1e-5 });
    }
    expect(gradcheck((gate: E.Tensor, x: E.Tensor, w: E.Tensor) => E.swigluLinear(gate, x, w), [input(r, [2, 5, 6]), input(r, [2, 5, 8]), input(r, [6, 8])]).ok).toBe(true);
  });
  it('bit for bit swiglu(gate, linear(x, W)), forward and gradients, without the swiglu kernel where the broadcast kernel runs', async () => {
    const [gd, xd, wd] = [input(r, [3, 29, 44]), input(r, [3, 29, 24]), input(r, [44, 24])];
    const run = (fused: boolean) =>
      E.scopeAsync(async () => {
        const [gate, x, w] = [gd, xd, wd].map((d) => E.tensor(d.data, d.shape, { requiresGrad: true }));
        const names: string[] = [];
        onLaunch((l) => names.push(l.kernel.name));
        const y = fused ? E.swigluLinear(gate!, x!, w!) : E.swiglu(gate!, E.linear(x!, w!));
        onLaunch(null);
        E.backward(E.sumAll(E.mul(y, y)));
        const out = [await E.read(y), ...(await Promise.all([gate, x, w].map((t) => E.read(t!.grad!))))].map((a) => Array.from(a));
        E.zeroGrad([gate!, x!, w!]);
        return { out, forward: names };
      });
    const [a, b] = [await run(true), await run(false)];
    a.out.forEach((v, i) => expect(v, ['y', 'd gate', 'dx', 'dW'][i]).toEqual(b.out[i]));
    if (hasBroadcast()) {
      expect(a.forward.filter((n) => n.includes('_swiglu_')).length).toBe(1);
      expect(a.forward.filter((n) => n === 'swiglu_fwd').length).toBe(0);
      expect(b.forward.filter((n) => n === 'swiglu_fwd').length).toBe(1);
    }
  });
  it('names a gate whose shape is not the projection\'s; without a tape, keeps no up buffer', async () => {
    const x = E.tensor(randData(r, 12 * 8), [12, 8]);
    const w = E.tensor(randData(r, 16 * 8), [16, 8]);
    const bad = E.tensor(randData(r, 12 * 8), [12, 8]);
    expect(() => E.swigluLinear(bad, x, w)).toThrow(/swigluLinear: gate \[12, 8\] is not the up projection's shape \[12, 16\]/);
    for (const t of [x, w, bad]) t.dispose();
    if (!hasBroadcast()) return;
    // a shape the broadcast kernel runs (the bit-for-bit case's)
    const [xf, wf, gate] = [E.tensor(randData(r, 87 * 24), [87, 24]), E.tensor(randData(r, 44 * 24), [44, 24]), E.tensor(randData(r, 87 * 44), [87, 44])];
    E.swigluLinear(gate, xf, wf).dispose(); // warm-up
    await E.sync();
    const before = E.liveBytes();
    const y = E.swigluLinear(gate, xf, wf);
    await E.sync();
    expect(E.liveBytes() - before).toBe(y.gpu!.bytes);
    for (const t of [xf, wf, gate, y]) t.dispose();
  });
});
