import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { gpucheck, gradcheck } from '../../engine/index.ts';
import { input, randData, rng } from '../util.ts';
import { gpuSync } from '../../engine/device.ts';
import { onLaunch } from '../../engine/runtime.ts';

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

describe('linearAdd (a residual added in the projection\'s writes)', () => {
  const hasBroadcast = () => gpuSync().info.isSoftware && gpuSync().info.subgroupSize !== null;
  it('r + x·Wᵀ on the GPU vs float64, forward and gradients, at sizes off the tile; gradcheck', async () => {
    for (const [xs, out] of [[[3, 37, 20], 36], [[41, 12], 28]] as const) {
      const f = (x: E.Tensor, w: E.Tensor, res: E.Tensor) => E.linearAdd(x, w, res);
      const ins = () => [input(r, [...xs]), input(r, [out, xs[xs.length - 1]!]), input(r, [...xs.slice(0, -1), out])];
      await gpucheck(f, ins(), { fwdTol: 1e-5, bwdTol: 1e-5 });
    }
    // the float64 rule (the composition on the cpu backend), at a size finite differences afford
    expect(gradcheck((x: E.Tensor, w: E.Tensor, res: E.Tensor) => E.linearAdd(x, w, res), [input(r, [2, 5, 8]), input(r, [6, 8]), input(r, [2, 5, 6])]).ok).toBe(true);
  });
  it('bit for bit add(r, linear(x, W)), forward and gradients, in one dispatch where the broadcast kernel runs', async () => {
    const [xd, wd, rd] = [input(r, [3, 29, 24]), input(r, [44, 24]), input(r, [3, 29, 44])];
    const run = (fused: boolean) =>
      E.scopeAsync(async () => {
        const [x, w, res] = [xd, wd, rd].map((d) => E.tensor(d.data, d.shape, { requiresGrad: true }));
        const names: string[] = [];
        onLaunch((l) => names.push(l.kernel.name));
        const y = fused ? E.linearAdd(x!, w!, res!) : E.add(res!, E.linear(x!, w!));
        onLaunch(null);
        E.backward(E.sumAll(E.mul(y, y)));
        const out = [await E.read(y), ...(await Promise.all([x, w, res].map((t) => E.read(t!.grad!))))].map((a) => Array.from(a));
        E.zeroGrad([x!, w!, res!]);
        return { out, forward: names };
      });
    const [a, b] = [await run(true), await run(false)];
    a.out.forEach((v, i) => expect(v, ['y', 'dx', 'dW', 'dr'][i]).toEqual(b.out[i]));
    const adds = (ns: string[]) => ns.filter((n) => n.startsWith('binary_add')).length;
    if (hasBroadcast()) {
      expect(a.forward.filter((n) => n.includes('_add_')).length).toBe(1);
      expect(adds(b.forward) - adds(a.forward)).toBe(1);
    }
  });
  it('names the residual whose shape is not the projection\'s', () => {
    const x = E.tensor(randData(r, 12), [3, 4]);
    const w = E.tensor(randData(r, 20), [5, 4]);
    const res = E.tensor(randData(r, 12), [3, 4]);
    expect(() => E.linearAdd(x, w, res)).toThrow(/linearAdd: r \[3, 4\] is not the projection's shape \[3, 5\]/);
    for (const t of [x, w, res]) t.dispose();
  });
});
