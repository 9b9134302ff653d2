// linearHalf (engine/ops/linear-half.ts): forward and both gradients against float64 products of the
// f16-rounded operands, at sizes off every tile, on every f16 matmul variant the adapter runs; the
// forward bit for bit the cast-and-multiply chain; its dispatches; overflow to Inf; steady memory.
//
// Bound, per product P·Q with inner size k (Higham §3.1, as test/engine/matmul-f16.test.ts): both sides
// multiply the same f16 operands, the GPU sums in f32 and writes f32, so in the Frobenius norm
//   rel ≤ γ_k · ‖|P||Q|‖ / ‖P·Q‖,  γ_k = k·u32 / (1 − k·u32),  u32 = 2^-24.
import { afterAll, describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { gpuSync } from '../../engine/device.ts';
import { roundF16 } from '../../engine/half.ts';
import { record } from '../../engine/autograd.ts';
import { onLaunch } from '../../engine/runtime.ts';
import { matmulRef } from '../../engine/reference/matmul.ts';
import { expectSteadyMemory, randData, rng } from '../util.ts';

const U32 = 2 ** -24;
afterAll(() => E.setMatmulVariant(null));

const norm = (x: ArrayLike<number>) => Math.sqrt(Array.from(x).reduce((s, v) => s + v * v, 0));
const relErr = (got: ArrayLike<number>, want: ArrayLike<number>) => norm(Array.from(got, (g, i) => g - want[i]!)) / norm(want);

/** P (m×k) · op(Q) in float64 and the bound above. */
function product(P: Float64Array, Q: Float64Array, m: number, n: number, k: number, tA: boolean, tB: boolean): { c: Float64Array; bound: number } {
  const c = matmulRef(P, Q, 1, m, n, k, tA, tB, 0, 0);
  const abs = matmulRef(P.map(Math.abs), Q.map(Math.abs), 1, m, n, k, tA, tB, 0, 0);
  const gamma = (k * U32) / (1 - k * U32);
  return { c, bound: gamma * (norm(abs) / norm(c)) };
}

const round = (x: Float64Array) => x.map((v) => roundF16(Math.fround(v)));

describe('linearHalf', () => {
  const r = rng(4711);
  // x [2, 13, 37] (26 rows), W [29, 37]: no dimension a multiple of 4, 8, 16 or 32
  const [B, T, K, N] = [2, 13, 37, 29];
  const rows = B * T;
  const xd = Float64Array.from(randData(r, rows * K), Math.fround);
  const wd = Float64Array.from(randData(r, N * K), Math.fround);
  const gd = Float64Array.from(randData(r, rows * N), Math.fround);
  const X16 = round(xd);
  const W16 = round(wd);
  const G16 = round(gd);
  const fwd = product(X16, W16, rows, N, K, false, true);
  const dx = product(G16, W16, rows, K, N, false, false);
  const dw = product(G16, X16, N, K, rows, true, false);

  for (const variant of E.MATMUL_F16_VARIANTS) {
    it(`${variant}: y, dx and dW within the f32-summation bound of the float64 products`, async (ctx) => {
      if (!E.matmulF16Variants(gpuSync().info).includes(variant)) ctx.skip();
      E.setMatmulVariant(variant);
      try {
        const x = E.tensor(xd, [B, T, K], { requiresGrad: true });
        const w = E.tensor(wd, [N, K], { requiresGrad: true });
        const y = E.linearHalf(x, w);
        expect(y.shape).toEqual([B, T, N]);
        expect(y.dtype).toBe('f32');
        const g = E.tensor(gd, [B, T, N]);
        E.backward(y, g);
        const [yv, gx, gw] = [await E.read(y), await E.read(x.grad!), await E.read(w.grad!)];
        expect(relErr(yv, fwd.c)).toBeLessThanOrEqual(fwd.bound);
        expect(relErr(gx, dx.c)).toBeLessThanOrEqual(dx.bound);
        expect(relErr(gw, dw.c)).toBeLessThanOrEqual(dw.bound);
        // and the gradients are not rounded to f16 on the way (the chain's toF16 backward would)
        expect(Array.from(gw).some((v) => roundF16(v) !== v)).toBe(true);
        for (const t of [x, w, y, g]) t.dispose();
      } finally {
        E.setMatmulVariant(null);
      }
    });
  }

  for (const variant of ['f16', 'widen'] as const) {
    it(`${variant}: forward the bits of matmul(toF16(x), toF16(W), {transB, out: f32}), backward those of the f16 products of f16(g); fewer dispatches than that chain`, async (ctx) => {
      if (!E.matmulF16Variants(gpuSync().info).includes(variant)) ctx.skip();
      E.setMatmulVariant(variant);
      const x = E.tensor(xd, [B, T, K], { requiresGrad: true });
      const w = E.tensor(wd, [N, K], { requiresGrad: true });
      const g = E.tensor(gd, [B, T, N]);
      try {
        // the kernels each pass launches (test/setup.ts's poison fills of new buffers left out)
        const count = async (f: () => E.Tensor) => {
          await E.sync();
          const ops: string[] = [];
          onLaunch((l) => void (l.op !== 'poison' && ops.push(l.op)));
          const y = f();
          const fwdOps = ops.splice(0);
          E.backward(y, g);
          onLaunch(null);
          const out = { y: await E.read(y), fwd: fwdOps, bwd: ops, gx: await E.read(x.grad!), gw: await E.read(w.grad!) };
          y.dispose();
          E.zeroGrad([x, w]);
          return out;
        };
        const half = await count(() => E.linearHalf(x, w));
        const chain = await count(() => E.matmul(E.toF16(x), E.toF16(w), { transB: true, out: 'f32' }));
        expect(Array.from(half.y)).toEqual(Array.from(chain.y));
        expect(half.fwd).toEqual(variant === 'widen' ? ['toF16', 'toF16', 'toF32', 'toF32', 'matmul'] : ['toF16', 'toF16', 'matmul']);
        expect(chain.fwd).toEqual(half.fwd);
        // backward: f16(g) and the two products, without widening f16 dx and dW; on widened operands,
        // f16(g) made as f32 in one pass and W, x widened for the products
        expect(half.bwd).toEqual(variant === 'widen' ? ['roundToF16', 'toF32', 'matmul', 'toF32', 'matmul'] : ['toF16', 'matmul', 'matmul']);
        if (variant === 'f16') expect(chain.bwd).toEqual(['toF16', 'matmul', 'matmul', 'toF32', 'toF32']);
        expect(half.bwd.length, chain.bwd.join(' ')).toBeLessThanOrEqual(chain.bwd.length - 2);
        // the gradients' bits: the f16 products of f16(g) with f16(W) and f16(x), f32 outputs
        const want = E.noGrad(() => {
          const [g16, w16, x16] = [E.toF16(E.reshape(g, [B * T, N])), E.toF16(w), E.toF16(E.reshape(x, [B * T, K]))];
          return [E.matmul(g16, w16, { out: 'f32' }), E.matmul(g16, x16, { transA: true, out: 'f32' })];
        });
        expect(Array.from(half.gx)).toEqual(Array.from(await E.read(want[0]!)));
        expect(Array.from(half.gw)).toEqual(Array.from(await E.read(want[1]!)));
      } finally {
        E.setMatmulVariant(null);
        for (const t of [x, w, g]) t.dispose();
      }
    });
  }

  it('an output gradient beyond the f16 range gives non-finite gradients (what the loss scaler detects)', async () => {
    const x = E.tensor(xd, [B, T, K], { requiresGrad: true });
    const w = E.tensor(wd, [N, K], { requiresGrad: true });
    const y = E.linearHalf(x, w);
    const big = Float64Array.from(gd, (v, i) => (i === 7 ? 1e6 : v)); // f16(1e6) = Inf
    E.backward(y, E.tensor(big, [B, T, N]));
    const gx = await E.read(x.grad!);
    const gw = await E.read(w.grad!);
    expect(Array.from(gx).some((v) => !Number.isFinite(v))).toBe(true);
    expect(Array.from(gw).some((v) => !Number.isFinite(v))).toBe(true);
    for (const t of [x, w, y]) t.dispose();
  });

  it('names the op and the shapes on a mismatch or an f16 input', () => {
    const x = E.tensor(xd.slice(0, 6 * 5), [6, 5]);
    const w = E.tensor(wd.slice(0, 4 * 3), [4, 3]);
    expect(() => E.linearHalf(x, w)).toThrow(/linearHalf: x \[6, 5\] does not match W \[4, 3\]/);
    const h = E.toF16(x);
    expect(() => E.linearHalf(h, w)).toThrow(/linearHalf/);
    for (const t of [x, w, h]) t.dispose();
  });

  it('frees a tape-owned output gradient once it is cast, before the products run (their temporaries may take its storage)', async () => {
    const x = E.tensor(xd, [B, T, K], { requiresGrad: true });
    const w = E.tensor(wd, [N, K], { requiresGrad: true });
    for (const variant of E.MATMUL_F16_VARIANTS.filter((v) => v === 'f16' || v === 'widen')) {
      E.setMatmulVariant(variant);
      let g: E.Tensor | null = null;
      const seen: boolean[] = [];
      E.scope(() => {
        const y = E.linearHalf(x, w);
        // an identity whose rule makes the gradient linearHalf receives: owned by the tape, not the caller
        const id = E.noGrad(() => E.mulScalar(y, 1));
        const out = record(id, 'probe', [y], (gy) => [(g = E.noGrad(() => E.mulScalar(gy, 1)))]);
        onLaunch((l) => void (g && l.kernel.name.startsWith('matmul') && seen.push(g.disposed)));
        try {
          E.backward(out, E.tensor(gd, [B, T, N]));
        } finally {
          onLaunch(null);
        }
      });
      expect(seen.length, variant).toBe(2); // dx and dW
      expect(seen, variant).toEqual([true, true]);
      expect(relErr(await E.read(w.grad!), dw.c), variant).toBeLessThan(dw.bound + 1e-6);
      E.zeroGrad([x, w]);
    }
    E.setMatmulVariant(null);
    x.dispose();
    w.dispose();
  });

  it('leaves no memory behind, with and without gradients', async () => {
    const x = E.tensor(xd, [B, T, K], { requiresGrad: true });
    const w = E.tensor(wd, [N, K], { requiresGrad: true });
    await expectSteadyMemory(() =>
      E.scope(() => {
        E.backward(E.linearHalf(x, w), E.tensor(gd, [B, T, N]));
        E.zeroGrad([x, w]);
      }),
    );
    await expectSteadyMemory(() => E.noGrad(() => E.linearHalf(x, w).dispose()));
    x.dispose();
    w.dispose();
  });
});
