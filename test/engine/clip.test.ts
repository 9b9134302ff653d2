import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { precompile } from '../../engine/index.ts';
import { clipFinalize, clipScale, clipSumsq } from '../../kernels/clip/norm.ts';
import { clipRef } from '../../engine/reference/clip.ts';
import { expectSteadyMemory, randData, rng } from '../util.ts';

const r = rng(61);
// sizes that are not multiples of 4 or of the 4096-element workgroup chunk; more than one launch group
const sizes = [1, 7, 4099, 33, 9001, 2, 130, 5, 17, 1029, 3];

async function run(backend: 'gpu' | 'cpu', maxNorm: number, scale = 1) {
  const params = sizes.map((n) => E.keep(E.tensor(randData(r, n), [n], { backend, requiresGrad: true })));
  const gs = sizes.map((n) => randData(r, n).map((x) => x * scale));
  params.forEach((p, i) => (p.grad = E.keep(E.tensor(gs[i]!, [sizes[i]!], { backend }))));
  const ref = gs.map((g) => Float64Array.from(g));
  const refNorm = clipRef(ref, maxNorm);
  const norm = E.clipGradNorm(params, maxNorm);
  expect(norm.shape).toEqual([]);
  const got = await E.item(norm);
  norm.dispose();
  const errs: number[] = [];
  for (let i = 0; i < params.length; i++) errs.push(E.relErr(await E.read(params[i]!.grad!), ref[i]!));
  E.zeroGrad(params);
  for (const p of params) p.dispose();
  return { got, refNorm, errs };
}

describe('clipGradNorm', () => {
  it('compiles', async () => {
    await precompile(clipSumsq(1));
    await precompile(clipSumsq(8));
    await precompile(clipFinalize);
    await precompile(clipScale(8));
  });
  for (const backend of ['gpu', 'cpu'] as const) {
    for (const [maxNorm, what] of [[1, 'clips'], [1e6, 'leaves small gradients unchanged']] as const) {
      it(`${backend}: ${what} (global norm and gradients vs float64)`, async () => {
        const { got, refNorm, errs } = await run(backend, maxNorm);
        expect(Math.abs(got - refNorm) / refNorm).toBeLessThan(1e-5);
        for (const e of errs) expect(e).toBeLessThan(1e-5);
      });
    }
  }
  it('every element counts: one unit entry anywhere in a gradient of more than 256 workgroup chunks has norm 1', async () => {
    // the reductions hold eight lane sums per invocation (kernels/clip/norm.ts): these positions sit in
    // lanes of every register slot, past the first 32, in the last partial chunk and in the finalize's
    // lanes past 256 partials
    const n = 300 * 4096 + 3;
    const g = new Float32Array(n);
    const p = E.keep(E.tensor(new Float32Array(n), [n], { requiresGrad: true }));
    for (const at of [0, 4 * 33 + 1, 4 * 200 + 2, 4 * 255 + 3, 4096 * 7 + 4 * 97, 4096 * 257 + 4 * 128, 4096 * 299 + 4 * 255 + 3, n - 1]) {
      g.fill(0);
      g[at] = 1;
      p.grad = E.keep(E.tensor(g, [n]));
      const norm = E.clipGradNorm([p], 1e6);
      expect([at, await E.item(norm)]).toEqual([at, 1]);
      norm.dispose();
      E.zeroGrad([p]);
    }
    p.dispose();
  });

  it('clipped gradients have norm maxNorm', async () => {
    const p = E.keep(E.tensor([0, 0, 0], [3], { requiresGrad: true }));
    p.grad = E.keep(E.tensor([3, 4, 12], [3]));
    const n = E.clipGradNorm([p], 2);
    expect(await E.item(n)).toBeCloseTo(13, 5);
    const g = await E.toArray(p.grad);
    expect(Math.hypot(...g)).toBeCloseTo(2, 5);
    n.dispose();
    E.zeroGrad([p]);
    p.dispose();
  });
  it('leaves live bytes unchanged apart from the returned norm', async () => {
    const p = E.keep(E.tensor(randData(r, 5000), [5000], { requiresGrad: true }));
    p.grad = E.keep(E.tensor(randData(r, 5000), [5000]));
    await expectSteadyMemory(() => E.scope(() => void E.clipGradNorm([p], 0.5)), { warmup: false });
    E.zeroGrad([p]);
    p.dispose();
  });
  it('rejects a non-positive maxNorm', () => {
    expect(() => E.clipGradNorm([], 0)).toThrow(/clipGradNorm: maxNorm 0 must be positive/);
  });
});
