import { afterAll, describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { gpucheck, gradcheck, precompile } from '../../engine/index.ts';
import { softmaxKernel } from '../../kernels/softmax/rows.ts';
import { softmaxSubgroupKernel } from '../../kernels/softmax/subgroup.ts';
import { softmaxThreadVec4Kernel } from '../../kernels/softmax/thread-vec4.ts';
import { gpuSync } from '../../engine/device.ts';
import { expectSteadyMemory, input, rng } from '../util.ts';

const r = rng(404);
await E.initEngine();
afterAll(() => E.setSoftmaxLayout(null));

// every layout this adapter has (the subgroup one needs fixed subgroups)
for (const layout of E.softmaxLayouts())
describe(`softmax and logSoftmax over the last axis (${layout} layout)`, () => {
  const shapes = [
    [5, 7], // short rows: one invocation per row
    [70, 3], // more rows than one workgroup of row-invocations
    [4, 1],
    [1],
    [2, 3, 5],
    [3, 300], // long rows: one workgroup per row, not a multiple of the workgroup
    [2, 129],
    [13, 64], // rows of a multiple of 4 (vec4 in the subgroup layout), more rows than one workgroup holds
    [9, 6], // shorter than a subgroup
    [70, 8], // rows of two vec4, more rows than one workgroup of row-invocations
    [3, 1028],
  ];
  for (const [name, f] of [
    ['softmax', E.softmax],
    ['logSoftmax', E.logSoftmax],
  ] as const) {
    for (const shape of shapes) {
      it(`${name} [${shape}]`, async () => {
        E.setSoftmaxLayout(layout);
        expect(gradcheck(f, [input(r, shape, 0.1, 3)]).ok).toBe(true);
        await gpucheck(f, [input(r, shape, 0.1, 3)], { fwdTol: 1e-5, bwdTol: 1e-5 });
      });
    }
  }
  it('is numerically stable for large logits', async () => {
    E.setSoftmaxLayout(layout);
    const x = E.tensor([1000, 1001, 1002, -1000, 0, 1000], [2, 3]);
    const y = await E.toArray(E.softmax(x));
    const e = [Math.exp(-2), Math.exp(-1), 1];
    const s = e[0]! + e[1]! + e[2]!;
    expect(y.slice(0, 3).map((v, i) => Math.abs(v - e[i]! / s)).every((d) => d < 1e-6)).toBe(true);
    expect(y.slice(3)).toEqual([0, 0, 1]);
    const ly = await E.toArray(E.logSoftmax(x));
    expect(ly.every(Number.isFinite)).toBe(true);
    x.dispose();
  });
  it('follows a row whose maximum keeps rising (thread-vec4 moves its reference past 16) and rows of ±1e4', async () => {
    E.setSoftmaxLayout(layout);
    const len = 36;
    const rows: number[][] = [
      Array.from({ length: len }, (_, i) => 3 * i), // every 6th step of a component jumps past 16
      Array.from({ length: len }, (_, i) => (i % 2 ? 1e4 : -1e4) + i),
      Array.from({ length: len }, (_, i) => 40 - 2.5 * i), // falling: the reference never moves after the first
    ];
    const flat = rows.flat();
    for (const [name, f] of [['softmax', E.softmax], ['logSoftmax', E.logSoftmax]] as const) {
      const x = E.tensor(flat, [rows.length, len]);
      const got = await E.toArray(f(x));
      rows.forEach((row, r) => {
        const M = Math.max(...row);
        const S = row.reduce((a, v) => a + Math.exp(v - M), 0);
        row.forEach((v, i) => {
          const want = name === 'softmax' ? Math.exp(v - M) / S : v - M - Math.log(S);
          // f32 exp's relative error grows with its argument's size (e^-48: ≈ 2e-6 on every layout)
          const tol = name === 'softmax' ? 4e-7 * (1 + Math.abs(v - M)) * want + 1e-30 : 1e-6 * Math.max(1, Math.abs(want)) + 2.4e-7 * Math.abs(M); // log-softmax: x − (M + log S) rounds at |M|'s ulp
          expect(Math.abs(got[r * len + i]! - want), `${name} row ${r} element ${i}: ${got[r * len + i]} vs ${want}`).toBeLessThanOrEqual(tol);
        });
      });
      x.dispose();
    }
  });
  it('every kernel variant compiles', async () => {
    for (const kind of ['softmax', 'logsoftmax'] as const)
      for (const pass of ['fwd', 'bwd'] as const)
        for (const layout of ['thread', 'workgroup'] as const) {
          await precompile(softmaxKernel(kind, pass, layout));
          const SG = gpuSync().info.subgroupSize;
          if (SG !== null) for (const vec4 of [false, true]) await precompile(softmaxSubgroupKernel(kind, pass, vec4, SG));
          await precompile(softmaxThreadVec4Kernel(kind, pass));
        }
  });
  it('rejects bad inputs', () => {
    const xi = E.tensor([1, 2], [2], { dtype: 'i32' });
    const s = E.tensor([1], []);
    expect(() => E.softmax(xi)).toThrow(/softmax: expected dtype f32 but got Tensor#\d+\(i32\[2\]/);
    expect(() => E.logSoftmax(s)).toThrow(/logsoftmax: needs at least one axis, got shape \[\]/);
    const y = E.tensor([0.5, 0.5], [2]);
    const g = E.tensor([1, 1, 1], [3]);
    expect(() => E.softmaxBackward('softmax', y, g)).toThrow(/softmax_backward: gradient \[3\] does not match output \[2\]/);
    xi.dispose();
    expect(() => E.softmax(xi)).toThrow(/softmax: use of disposed tensor/);
    for (const t of [s, y, g]) t.dispose();
  });
  it('forward + backward in a scope leaves live bytes unchanged', async () => {
    const x = E.keep(E.randn([6, 200], { requiresGrad: true }));
    const step = () =>
      E.scope(() => {
        E.backward(E.sumAll(E.mul(E.softmax(x), E.logSoftmax(x))));
        E.zeroGrad([x]);
      });
    await expectSteadyMemory(step);
    x.dispose();
  });
});
