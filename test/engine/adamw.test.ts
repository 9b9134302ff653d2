import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { precompile } from '../../engine/index.ts';
import { adamwStep } from '../../kernels/adamw/step.ts';
import { expectSteadyMemory, randData, rng } from '../util.ts';

const r = rng(51);

/** torch.optim.AdamW's update as its docs write it, in float64 (independent of engine/reference). */
function torchAdamw(p: number[], g: number[], m: number[], v: number[], t: number, lr: number, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01): void {
  for (let i = 0; i < p.length; i++) {
    p[i]! *= 1 - lr * wd;
    m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
    v[i] = b2 * v[i]! + (1 - b2) * g[i]! * g[i]!;
    const denom = Math.sqrt(v[i]!) / Math.sqrt(1 - b2 ** t) + eps;
    p[i]! -= (lr / (1 - b1 ** t)) * (m[i]! / denom);
  }
}

const shapes = [[1], [7], [33], [3, 5], [130], [1029], [2, 1, 3], [4099]]; // more than one launch group

function setGrad(p: E.Tensor, data: ArrayLike<number>): void {
  E.zeroGrad([p]);
  p.grad = E.keep(E.tensor(data, p.shape, { backend: p.backend }));
}

describe('adamw', () => {
  it('compiles for 1..4 slots', async () => {
    for (let k = 1; k <= 4; k++) await precompile(adamwStep(k));
  });
  for (const backend of ['gpu', 'cpu'] as const) {
    it(`${backend}: five steps over ${shapes.length} parameters match torch's formula in float64`, async () => {
      const init = shapes.map((s) => randData(r, s.reduce((a, b) => a * b, 1)));
      const params = init.map((d, i) => E.keep(E.tensor(d, shapes[i]!, { backend, requiresGrad: true })));
      const ids = params.map((p) => p.id);
      const ref = init.map((d) => ({ p: Array.from(d), m: new Array(d.length).fill(0), v: new Array(d.length).fill(0) }));
      const opt = E.adamw(params, { lr: 0.01, weightDecay: 0.1 });
      for (let t = 1; t <= 5; t++) {
        const lr = t === 3 ? 0.003 : 0.01; // a scheduled learning rate on step 3
        params.forEach((p, i) => {
          const g = Array.from(randData(r, p.size, 0.01, 2));
          setGrad(p, g);
          torchAdamw(ref[i]!.p, g, ref[i]!.m, ref[i]!.v, t, lr, 0.9, 0.999, 1e-8, 0.1);
        });
        opt.step(lr);
      }
      const st = opt.state();
      expect(st.step).toBe(5);
      for (let i = 0; i < params.length; i++) {
        expect(params[i]!.id).toBe(ids[i]);
        expect(E.relErr(await E.read(params[i]!), ref[i]!.p)).toBeLessThan(1e-5);
        expect(E.relErr(await E.read(st.m[i]!), ref[i]!.m)).toBeLessThan(1e-5);
        expect(E.relErr(await E.read(st.v[i]!), ref[i]!.v)).toBeLessThan(1e-5);
      }
      E.zeroGrad(params);
      opt.dispose();
      for (const p of params) p.dispose();
    });
  }
  for (const backend of ['gpu', 'cpu'] as const) {
    it(`${backend}: noDecay parameters follow the update without decay, the others with it (launch groups split by decay)`, async () => {
      const init = shapes.map((s) => randData(r, s.reduce((a, b) => a * b, 1)));
      const params = init.map((d, i) => E.keep(E.tensor(d, shapes[i]!, { backend, requiresGrad: true })));
      const exempt = new Set([1, 4, 5, 7]); // interleaved with decayed ones, more than one group of each
      const ref = init.map((d) => ({ p: Array.from(d), m: new Array(d.length).fill(0), v: new Array(d.length).fill(0) }));
      const opt = E.adamw(params, { lr: 0.02, weightDecay: 0.3, noDecay: params.filter((_, i) => exempt.has(i)) });
      for (let t = 1; t <= 3; t++) {
        params.forEach((p, i) => {
          const g = Array.from(randData(r, p.size, 0.01, 2));
          setGrad(p, g);
          torchAdamw(ref[i]!.p, g, ref[i]!.m, ref[i]!.v, t, 0.02, 0.9, 0.999, 1e-8, exempt.has(i) ? 0 : 0.3);
        });
        opt.step();
      }
      for (let i = 0; i < params.length; i++) expect(E.relErr(await E.read(params[i]!), ref[i]!.p), `parameter ${i}`).toBeLessThan(1e-5);
      E.zeroGrad(params);
      opt.dispose();
      for (const p of params) p.dispose();
    });
  }
  it('refuses a noDecay tensor that is not a parameter', () => {
    const p = E.keep(E.tensor([1, 2], [2], { backend: 'cpu', requiresGrad: true }));
    const q = E.keep(E.tensor([1, 2], [2], { backend: 'cpu', requiresGrad: true }));
    expect(() => E.adamw([p], { lr: 0.1, noDecay: [q] })).toThrow(/noDecay tensor .* is not one of the parameters/);
    p.dispose();
    q.dispose();
  });
  it('two steps on one scalar equal the hand-computed PyTorch values', async () => {
    // p0 = 1, g = 0.5 then −0.2, lr 0.1, wd 0.01:
    // t=1: p = 0.999 − 0.1·(0.05/0.1)/(√(0.00025/0.001) + 1e-8) = 0.899000002
    // t=2: m = 0.025, v = 0.00028975, p = 0.899000002·0.999 − 0.1·(0.025/0.19)/(√(0.00028975/0.001999) + 1e-8)
    //        = 0.8635404181145108
    const p = E.keep(E.tensor([1], [1], { requiresGrad: true }));
    const opt = E.adamw([p], { lr: 0.1 });
    setGrad(p, [0.5]);
    opt.step();
    expect((await E.toArray(p))[0]).toBeCloseTo(0.899000002, 6);
    setGrad(p, [-0.2]);
    opt.step();
    expect((await E.toArray(p))[0]).toBeCloseTo(0.8635404181145108, 6);
    E.zeroGrad([p]);
    opt.dispose();
    p.dispose();
  });
  it('skips parameters without a gradient; state loads into a new optimizer and continues identically', async () => {
    const a = E.keep(E.tensor(randData(r, 10), [10], { requiresGrad: true }));
    const b = E.keep(E.tensor(randData(r, 6), [2, 3], { requiresGrad: true }));
    const b0 = await E.toArray(b);
    const opt = E.adamw([a, b], { lr: 0.05 });
    setGrad(a, randData(r, 10));
    opt.step();
    expect(await E.toArray(b)).toEqual(b0);
    // a second optimizer over copies, loaded from the first one's state (host arrays for m, tensors for v)
    const a2 = E.keep(E.tensor(await E.read(a), [10], { requiresGrad: true }));
    const b2 = E.keep(E.tensor(b0, [2, 3], { requiresGrad: true }));
    const opt2 = E.adamw([a2, b2], { lr: 0.05 });
    const st = opt.state();
    opt2.load({ step: st.step, m: [await E.read(st.m[0]!), await E.read(st.m[1]!)], v: st.v });
    const g = randData(r, 10);
    setGrad(a, g);
    setGrad(a2, g);
    opt.step();
    opt2.step();
    expect(await E.toArray(a2)).toEqual(await E.toArray(a));
    expect(() => opt2.load({ step: 1, m: [[1]], v: [[1]] })).toThrow(/adamw: state has 1\/1 moments for 2 parameters/);
    E.zeroGrad([a, b, a2, b2]);
    opt.dispose();
    opt2.dispose();
    for (const t of [a, b, a2, b2]) t.dispose();
  });
  it('a step in a scope leaves live bytes unchanged', async () => {
    const ps = shapes.map((s) => E.keep(E.tensor(randData(r, s.reduce((x, y) => x * y, 1)), s, { requiresGrad: true })));
    const opt = E.adamw(ps, { lr: 0.01 });
    for (const p of ps) setGrad(p, randData(r, p.size));
    await expectSteadyMemory(() => E.scope(() => opt.step()), { warmup: false, repeats: 3 });
    E.zeroGrad(ps);
    opt.dispose();
    for (const p of ps) p.dispose();
  });
  it('rejects a gradient of the wrong shape', () => {
    const p = E.keep(E.tensor([1, 2, 3], [3], { requiresGrad: true }));
    p.grad = E.keep(E.tensor([1, 2], [2]));
    const opt = E.adamw([p], { lr: 0.1 });
    expect(() => opt.step()).toThrow(/adamw: gradient .*\[2\].* does not match parameter .*\[3\]/);
    E.zeroGrad([p]);
    opt.dispose();
    p.dispose();
  });
});
