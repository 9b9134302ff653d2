import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { gpucheck, gradcheck, type CheckInput } from '../../engine/index.ts';
import { ropeKernel } from '../../kernels/rope/rotate-half.ts';
import { expectSteadyMemory, input, rng } from '../util.ts';

const r = rng(5);

function positions(B: number, T: number, maxPos: number): CheckInput {
  // per-row offsets as with left padding / a KV cache: row b starts at a random position
  const data: number[] = [];
  for (let b = 0; b < B; b++) {
    const start = r.int(maxPos - T + 1);
    for (let t = 0; t < T; t++) data.push(start + t);
  }
  return { shape: [B, T], data, dtype: 'i32' };
}

describe('rope', () => {
  // Dh/2 % 4 == 0 takes the vec4 kernel, otherwise the scalar one
  const shapes = [[2, 5, 3, 8], [1, 1, 1, 2], [2, 3, 2, 6], [1, 7, 4, 64], [2, 3, 2, 128], [3, 2, 1, 10]];
  for (const shape of shapes) {
    it(`[${shape}]`, async () => {
      const [B, T] = shape as [number, number];
      const f = (x: E.Tensor, p: E.Tensor) => E.rope(x, p, 10000);
      expect(gradcheck(f, [input(r, shape), positions(B, T, 64)]).ok).toBe(true);
      await gpucheck(f, [input(r, shape), positions(B, T, 64)], { fwdTol: 1e-5, bwdTol: 1e-5 });
    });
  }
  it('long positions (up to 4096) and another theta', async () => {
    // Looser: the f32 angle pos·θ^(−2i/Dh) carries an absolute error of ~ulp(4096)/2 ≈ 2e-4 rad,
    // the same as HF's float32 rotary cache.
    const f = (x: E.Tensor, p: E.Tensor) => E.rope(x, p, 1e6);
    await gpucheck(f, [input(r, [2, 9, 2, 32]), positions(2, 9, 4096)], { fwdTol: 2e-4, bwdTol: 2e-4 });
  });
  it('rotate_half layout: pair (0, Dh/2) at position 1 turns by 1 radian, pair (1, Dh/2+1) by θ^(−2/Dh)', async () => {
    const x = E.tensor([1, 1, 0, 0], [1, 1, 1, 4]);
    const p = E.tensor([1], [1, 1], { dtype: 'i32' });
    const y = await E.toArray(E.rope(x, p, 100));
    const a1 = Math.pow(100, -2 / 4);
    const want = [Math.cos(1), Math.cos(a1), Math.sin(1), Math.sin(a1)];
    y.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
    x.dispose();
    p.dispose();
  });
  it('relative positions: q·k after rope depends only on the position difference', async () => {
    const q = E.randn([1, 1, 1, 16], { seed: 1 });
    const k = E.randn([1, 1, 1, 16], { seed: 2 });
    const dot = async (pq: number, pk: number) => {
      const a = await E.toArray(E.rope(q, E.tensor([pq], [1, 1], { dtype: 'i32' })));
      const b = await E.toArray(E.rope(k, E.tensor([pk], [1, 1], { dtype: 'i32' })));
      return a.reduce((s, v, i) => s + v * b[i]!, 0);
    };
    const d0 = await dot(3, 1);
    expect(await dot(13, 11)).toBeCloseTo(d0, 4);
    expect(await dot(40, 38)).toBeCloseTo(d0, 4);
    expect(Math.abs((await dot(3, 2)) - d0)).toBeGreaterThan(1e-3);
  });
  it('kernels compile', async () => {
    await E.precompile(ropeKernel(true));
    await E.precompile(ropeKernel(false));
  });
  it('rejects bad shapes and dtypes, naming the op and shapes', () => {
    const x = E.tensor(new Array(24).fill(1), [1, 2, 3, 4]);
    const x3 = E.tensor(new Array(6).fill(1), [1, 2, 3]);
    const xo = E.tensor(new Array(6).fill(1), [1, 2, 1, 3]);
    const p = E.tensor([0, 1], [1, 2], { dtype: 'i32' });
    const pf = E.tensor([0, 1], [1, 2]);
    const p3 = E.tensor([0, 1, 2], [1, 3], { dtype: 'i32' });
    expect(() => E.rope(x3, p)).toThrow(/rope: x must be \[B, T, H, Dh\] \(x \[1, 2, 3\], positions \[1, 2\]\)/);
    expect(() => E.rope(xo, p)).toThrow(/rope: head dim 3 must be even/);
    expect(() => E.rope(x, pf)).toThrow(/rope: expected dtype i32/);
    expect(() => E.rope(x, p3)).toThrow(/rope: positions must be \[1, 2\] \(x \[1, 2, 3, 4\], positions \[1, 3\]\)/);
    for (const t of [x, x3, xo, p, pf, p3]) t.dispose();
  });
  it('forward + backward in a scope leaves live bytes unchanged', async () => {
    const x = E.keep(E.randn([2, 3, 2, 8], { seed: 3, requiresGrad: true }));
    const p = E.keep(E.tensor([0, 1, 2, 5, 6, 7], [2, 3], { dtype: 'i32' }));
    await expectSteadyMemory(() => {
      E.scope(() => E.backward(E.sumAll(E.mul(E.rope(x, p), x))));
      E.zeroGrad([x]);
    });
    x.dispose();
    p.dispose();
  });
});
