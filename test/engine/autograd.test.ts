// The tape itself, on the float64 backend so every expected gradient is exact arithmetic: backward
// runs the recorded rules in reverse topological order, each node once; gradients accumulate over
// uses and over calls; detach and noGrad cut the tape; broadcasting is undone by summing.
import { describe, expect, it } from 'vitest';
import { add, backward, detach, dispatchCount, exp, isGradEnabled, mul, mulScalar, noGrad, read, sumAll, tensor, zeroGrad, type Tensor } from '../../engine/index.ts';
import { record } from '../../engine/autograd.ts';
import { copy, reshape } from '../../engine/ops/elementwise.ts';
import { onLaunch } from '../../engine/runtime.ts';

const leaf = (data: number[], shape = [data.length]) => tensor(data, shape, { backend: 'cpu', requiresGrad: true });
const values = async (t: Tensor | null) => Array.from(await read(t!));

/** An identity op whose backward rule logs its name: the order rules run in. */
function traced(log: string[], name: string, ...inputs: Tensor[]): Tensor {
  const out = inputs.length === 1 ? noGrad(() => copy(inputs[0]!)) : noGrad(() => add(inputs[0]!, inputs[1]!));
  return record(out, name, inputs, (g) => {
    log.push(name);
    return inputs.map(() => g);
  });
}

describe('autograd', () => {
  it('runs the backward rules in reverse tape order, each node once', () => {
    const log: string[] = [];
    const x = leaf([1, 2]);
    const y = sumAll(traced(log, 'c', traced(log, 'b', traced(log, 'a', x))));
    backward(y);
    expect(log).toEqual(['c', 'b', 'a']);
  });

  it('a diamond: the join runs before both branches, the shared input after both, each once', async () => {
    const log: string[] = [];
    const x = leaf([0.5, -1.5]);
    const s = traced(log, 'split', x);
    const j = traced(log, 'join', traced(log, 'left', s), traced(log, 'right', s));
    backward(sumAll(j));
    expect(log[0]).toBe('join');
    expect(log.slice(1, 3).sort()).toEqual(['left', 'right']);
    expect(log[3]).toBe('split');
    expect(log).toHaveLength(4);
    expect(await values(x.grad)).toEqual([2, 2]); // both paths reach x
    // the same shape with real ops: y = e^x · 2x, dy/dx = 2e^x (1 + x)
    const z = leaf([0.5, -1.5]);
    backward(sumAll(mul(exp(z), mulScalar(z, 2))));
    const want = [0.5, -1.5].map((v) => 2 * Math.exp(v) * (1 + v));
    (await values(z.grad)).forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 12));
  });

  it('accumulates: a leaf used twice gets the sum, a second backward adds to .grad, zeroGrad clears', async () => {
    const x = leaf([3, -2]);
    backward(sumAll(mul(x, x)));
    expect(await values(x.grad)).toEqual([6, -4]);
    backward(sumAll(mul(x, x)));
    expect(await values(x.grad)).toEqual([12, -8]);
    zeroGrad([x]);
    expect(x.grad).toBeNull();
  });

  it('hands a passed-through gradient on instead of copying it, once per rule; never the caller\'s gradient', async () => {
    // GPU tensors: a copy is a dispatch. A chain of pass-through rules costs no dispatch per link.
    const chain = async (links: number) => {
      const log: string[] = [];
      const x = tensor([1, -2, 3], [3], { requiresGrad: true });
      let y = x;
      for (let i = 0; i < links; i++) y = traced(log, `l${i}`, y);
      const root = sumAll(y);
      const before = dispatchCount();
      backward(root);
      const n = dispatchCount() - before;
      expect(await values(x.grad)).toEqual([1, 1, 1]);
      return n;
    };
    expect(await chain(6)).toBe(await chain(1));
    // a rule that passes g to two inputs: one of them gets g, the other its own copy
    const a = tensor([1, 2], [2], { requiresGrad: true });
    const b = tensor([3, 4], [2], { requiresGrad: true });
    backward(sumAll(traced([], 'both', a, b)));
    expect(a.grad).not.toBe(b.grad);
    zeroGrad([a]);
    expect(await values(b.grad)).toEqual([1, 1]);
    // the caller's gradient stays the caller's: the leaf gets a copy, and the caller's tensor lives on
    const c = tensor([5, 6], [2], { requiresGrad: true });
    const ext = tensor([0.5, -1], [2]);
    backward(traced([], 'pass', c), ext);
    expect(c.grad).not.toBe(ext);
    expect(await values(ext)).toEqual([0.5, -1]);
    expect(await values(c.grad)).toEqual([0.5, -1]);
  });

  it('release() frees the rule\'s output gradient at once, never the caller\'s; returning it afterwards is an error', async () => {
    // a rule that scales g into a new tensor, releasing g first when asked to
    const scaled = (x: Tensor, releaseIt: boolean, log: { disposedInRule: boolean | null }) =>
      record(noGrad(() => copy(x)), 'scaled', [x], (g, _into, release) => {
        const out = noGrad(() => mulScalar(g, 2));
        if (releaseIt) release?.();
        log.disposedInRule = g.disposed;
        return [out];
      });
    const x = tensor([1, -2, 3], [3], { requiresGrad: true });
    const log = { disposedInRule: null as boolean | null };
    backward(sumAll(scaled(mulScalar(x, 1), true, log)));
    expect(log.disposedInRule).toBe(true); // the tape's gradient, freed inside the rule
    expect(await values(x.grad)).toEqual([2, 2, 2]);
    backward(sumAll(scaled(mulScalar(x, 1), false, log)));
    expect(log.disposedInRule).toBe(false); // without the call, autograd frees it after the rule
    expect(await values(x.grad)).toEqual([4, 4, 4]);
    zeroGrad([x]);
    // the caller's gradient: release() leaves it alone
    const ext = tensor([0.5, -1, 2], [3]);
    backward(scaled(x, true, log), ext);
    expect(log.disposedInRule).toBe(false);
    expect(await values(ext)).toEqual([0.5, -1, 2]);
    expect(await values(x.grad)).toEqual([1, -2, 4]);
    zeroGrad([x]);
    // a pass-through rule that released g cannot hand it on
    const bad = record(noGrad(() => copy(x)), 'bad', [x], (g, _into, release) => {
      release?.();
      return [g];
    });
    expect(() => backward(sumAll(mulScalar(bad, 1)))).toThrow(/bad: the rule released its output gradient and then returned it/);
    zeroGrad([x]);
  });

  it('one gradient for two intermediates: they share its storage (no copy); parameters never share a gradient\'s storage', async () => {
    // GPU tensors: a copy is a dispatch
    const x = tensor([1, -2, 3], [3], { requiresGrad: true });
    const [h1, h2] = [mulScalar(x, 2), mulScalar(x, 3)];
    const y = traced([], 'both', h1, h2);
    const copies = (fn: () => void) => {
      let n = 0;
      onLaunch((l) => void (l.kernel.name === 'unary_copy' && n++));
      fn();
      onLaunch(null);
      return n;
    };
    expect(copies(() => backward(sumAll(y)))).toBe(0);
    expect(await values(x.grad)).toEqual([5, 5, 5]);
    zeroGrad([x]);
    // the same with a parameter as one of the two: its gradient is a copy
    const b = tensor([4, 5, 6], [3], { requiresGrad: true });
    const y2 = traced([], 'both', mulScalar(x, 2), b);
    expect(copies(() => backward(sumAll(y2)))).toBe(1);
    expect(await values(b.grad)).toEqual([1, 1, 1]);
    // a gradient that reaches two parameters through views (reshape) still gives each its own storage
    const p = tensor([1, 2, 3, 4], [4], { requiresGrad: true });
    const q = tensor([5, 6, 7, 8], [2, 2], { requiresGrad: true });
    backward(sumAll(traced([], 'both', p, reshape(q, [4]))));
    expect(p.grad!.gpu).not.toBe(q.grad!.gpu);
    expect([await values(p.grad), await values(q.grad)]).toEqual([[1, 1, 1, 1], [1, 1, 1, 1]]);
    zeroGrad([x, b, p, q]);
  });

  it('detach cuts the tape: y = x · detach(x) has dy/dx = x', async () => {
    const x = leaf([3, -2]);
    const d = detach(x);
    expect([d.requiresGrad, d.node]).toEqual([false, null]);
    backward(sumAll(mul(x, d)));
    expect(await values(x.grad)).toEqual([3, -2]);
  });

  it('noGrad records nothing, restores recording after a throw, and refuses an async fn', async () => {
    const x = leaf([1, 2]);
    const y = noGrad(() => mul(x, x));
    expect([y.requiresGrad, y.node]).toEqual([false, null]);
    expect(() => noGrad(() => {
      throw new Error('inside');
    })).toThrow('inside');
    expect(isGradEnabled()).toBe(true);
    // @ts-expect-error: the type refuses an async fn as well
    expect(() => noGrad(async () => mul(x, x))).toThrow(/noGrad is synchronous/);
    expect(isGradEnabled()).toBe(true);
    expect(mul(x, x).requiresGrad).toBe(true);
    expect(() => backward(y)).toThrow(/does not require grad/);
  });

  it('undoes broadcasting by summing over the broadcast axes', async () => {
    const a = leaf([1, 2, 3], [3, 1]);
    const b = leaf([10, 20, 30, 40], [1, 4]);
    backward(sumAll(mul(a, b))); // Σ_ij a_i b_j
    expect(await values(a.grad)).toEqual([100, 100, 100]); // Σ_j b_j
    expect(await values(b.grad)).toEqual([6, 6, 6, 6]); // Σ_i a_i
    const c = leaf([1, -1, 2, 0.5]); // [4] against [2, 3, 4]
    const big = tensor(Array.from({ length: 24 }, (_, i) => i), [2, 3, 4], { backend: 'cpu' });
    backward(sumAll(add(big, mulScalar(c, 2))));
    expect(await values(c.grad)).toEqual([12, 12, 12, 12]); // 2 × six broadcast copies
    expect(big.grad).toBeNull(); // data without requiresGrad gets no gradient
  });
});
