import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { gpucheck, gradcheck, precompile, type CheckInput } from '../../engine/index.ts';
import { loraDown } from '../../kernels/lora/down.ts';
import { loraOut } from '../../kernels/lora/out.ts';
import { loraDx } from '../../kernels/lora/dx.ts';
import { loraDa } from '../../kernels/lora/da.ts';
import { loraMergeKernel } from '../../kernels/lora/merge.ts';
import { loraDownVec4 } from '../../kernels/lora/down-vec4.ts';
import { loraDaSum, loraDaVec4 } from '../../kernels/lora/da-vec4.ts';
import { setLoraDaChunks } from '../../engine/ops/lora.ts';
import { input, randData, rng } from '../util.ts';
import { gpuSync } from '../../engine/device.ts';
import { onLaunch } from '../../engine/runtime.ts';

const r = rng(41);
const frozen = (ci: CheckInput): CheckInput => ({ ...ci, requiresGrad: false });

describe('loraLinear', () => {
  it('compiles every variant', async () => {
    for (const d of [false, true]) {
      await precompile(loraDown(d));
      await precompile(loraOut(d));
      await precompile(loraDa(d));
      for (const v of [false, true]) await precompile(loraDx(d, v));
      for (const v of [false, true]) await precompile(loraDaVec4(d, v));
      await precompile(loraDownVec4(d, 4));
    }
    await precompile(loraDaSum);
    await precompile(loraMergeKernel);
  });
  // [x shape, out, r]: odd sizes, size-1 dims, K % 4 = 0 (vec4 kernels) and not
  const cases: [number[], number, number][] = [
    [[5, 7], 9, 3],
    [[2, 3, 8], 6, 5],
    [[1, 1], 1, 1],
    [[33, 12], 17, 8],
    [[3], 5, 2],
    // the subgroup-broadcast kernel with the LoRA product as its second product (out and dx) where the
    // adapter has it: in, out and r multiples of 4, at least 256 outputs, tiles not filled
    [[40, 12], 36, 4],
    [[3, 17, 16], 20, 8],
  ];
  for (const [xs, out, rank] of cases) {
    for (const training of [false, true]) {
      it(`x [${xs}] out ${out} r ${rank} training=${training}: gradcheck (W frozen) and GPU vs float64`, async () => {
        const inF = xs[xs.length - 1]!;
        const opts = { scale: 1.7, dropout: 0.3, seed: 2024, training };
        const f = (x: E.Tensor, w: E.Tensor, a: E.Tensor, b: E.Tensor) => E.loraLinear(x, w, a, b, opts);
        const ins = () => [input(r, xs), frozen(input(r, [out, inF])), input(r, [rank, inF]), input(r, [out, rank])];
        expect(gradcheck(f, ins()).ok).toBe(true);
        await gpucheck(f, ins(), { fwdTol: 1e-4, bwdTol: 1e-4 });
      });
    }
  }
  it('dA in row chunks and their sum (the GPU rule; forced here): GPU vs float64, ragged last chunk, r % 4 = 0 and not', async () => {
    const names: string[] = [];
    onLaunch((l) => names.push(l.kernel.name));
    try {
      // [x shape, out, r, chunks]: M = 37 rows in 3 / 5 chunks (last chunk shorter), M = 6 in more chunks than rows
      for (const [xs, out, rank, chunks] of [[[37, 12], 9, 4, 3], [[37, 16], 10, 6, 5], [[2, 3, 8], 6, 5, 40]] as const) {
        setLoraDaChunks(chunks);
        const f = (x: E.Tensor, w: E.Tensor, a: E.Tensor, b: E.Tensor) => E.loraLinear(x, w, a, b, { scale: 1.3, dropout: 0.25, seed: 77, training: true });
        const inF = xs[xs.length - 1]!;
        await gpucheck(f, [input(r, [...xs]), frozen(input(r, [out, inF])), input(r, [rank, inF]), input(r, [out, rank])], { fwdTol: 1e-4, bwdTol: 1e-4 });
      }
    } finally {
      setLoraDaChunks(null);
      onLaunch(null);
    }
    expect(names.filter((n) => n === 'lora_da_sum').length).toBeGreaterThanOrEqual(3);
    expect(names).toContain('lora_da_v4_uv_drop');
    expect(names).toContain('lora_da_v4_drop');
    expect(names).toContain('lora_down_v4_r4_drop');
  });
  it('the fused kernels with 32-row tiles (matmul variant broadcast32): GPU vs float64, forward and gradients', async () => {
    E.setMatmulVariant('broadcast32');
    const names: string[] = [];
    onLaunch((l) => names.push(l.kernel.name));
    try {
      for (const [xs, out, rank] of [[[40, 12], 36, 4], [[3, 37, 16], 20, 8]] as const) {
        const f = (x: E.Tensor, w: E.Tensor, a: E.Tensor, b: E.Tensor) => E.loraLinear(x, w, a, b, { scale: 1.7, dropout: 0.3, seed: 7, training: true });
        await gpucheck(f, [input(r, [...xs]), frozen(input(r, [out, xs[xs.length - 1]!])), input(r, [rank, xs[xs.length - 1]!]), input(r, [out, rank])], { fwdTol: 1e-4, bwdTol: 1e-4 });
      }
    } finally {
      onLaunch(null);
      E.setMatmulVariant(null);
    }
    const fused32 = names.some((n) => n.includes('_plus') && n.includes('_32x'));
    expect(fused32).toBe(gpuSync().info.isSoftware && gpuSync().info.subgroupSize !== null);
  });
  it('runs the fused broadcast kernels where the adapter has subgroups (forward and dx)', async () => {
    const names: string[] = [];
    await E.scopeAsync(async () => {
      const x = E.tensor(randData(r, 40 * 12), [40, 12], { requiresGrad: true });
      const w = E.tensor(randData(r, 36 * 12), [36, 12]); // frozen
      const a = E.tensor(randData(r, 4 * 12), [4, 12], { requiresGrad: true });
      const b = E.tensor(randData(r, 36 * 4), [36, 4], { requiresGrad: true });
      onLaunch((l) => names.push(l.kernel.name));
      E.backward(E.sumAll(E.loraLinear(x, w, a, b, { scale: 2, dropout: 0.2, seed: 9, training: true })));
      onLaunch(null);
      await E.sync();
      for (const t of [x, a, b]) E.unkeep(t.grad!);
    });
    const fused = names.filter((n) => n.includes('_plus'));
    expect(fused.length).toBe(gpuSync().info.isSoftware && gpuSync().info.subgroupSize !== null ? 2 : 0);
  });
  it('equals linear(x, W) + scale·dropout(x)·Aᵀ·Bᵀ built from separate ops (same mask)', async () => {
    const x = E.tensor(randData(r, 6 * 10), [6, 10]);
    const w = E.tensor(randData(r, 7 * 10), [7, 10]);
    const a = E.tensor(randData(r, 4 * 10), [4, 10]);
    const b = E.tensor(randData(r, 7 * 4), [7, 4]);
    const [fused, composed] = await E.scopeAsync(async () => {
      const y1 = E.loraLinear(x, w, a, b, { scale: 0.5, dropout: 0.4, seed: 77, training: true });
      const lo = E.matmul(E.matmul(E.dropout(x, 0.4, 77), a, { transB: true }), b, { transB: true });
      const y2 = E.add(E.linear(x, w), E.mulScalar(lo, 0.5));
      return [await E.read(y1), await E.read(y2)];
    });
    expect(E.relErr(fused, composed)).toBeLessThan(1e-5);
    for (const t of [x, w, a, b]) t.dispose();
  });
  it('at initialisation (B = 0) the output equals the base layer (matmul) bit for bit; W gets no gradient', async () => {
    const x = E.tensor(randData(r, 5 * 12), [5, 12], { requiresGrad: true });
    const w = E.tensor(randData(r, 9 * 12), [9, 12], { requiresGrad: true });
    const { a, b } = E.loraInit(12, 9, 4, 3);
    const a0 = await E.toArray(a);
    const bound = 1 / Math.sqrt(12);
    expect(a0.every((v) => Math.abs(v) <= bound && v !== 0)).toBe(true);
    expect(await E.toArray(b)).toEqual(new Array(36).fill(0));
    await E.scopeAsync(async () => {
      const y = E.loraLinear(x, w, a, b, { scale: 2, dropout: 0.1, seed: 5, training: true });
      const base = E.matmul(x, w, { transB: true });
      expect(Array.from(await E.read(y))).toEqual(Array.from(await E.read(base)));
      E.backward(E.sumAll(y));
    });
    expect(w.grad).toBeNull();
    expect(a.grad).not.toBeNull(); // dA = s·uᵀ·x with u = g·B = 0 → zeros, but present
    expect(b.grad).not.toBeNull();
    E.zeroGrad([x, a, b]);
    E.release(x, w, a, b);
  });
  it('forward+backward in a scope leaves live bytes unchanged', async () => {
    const x = E.keep(E.tensor(randData(r, 9 * 8), [9, 8]));
    const w = E.keep(E.tensor(randData(r, 6 * 8), [6, 8]));
    const a = E.keep(E.tensor(randData(r, 2 * 8), [2, 8], { requiresGrad: true }));
    const b = E.keep(E.tensor(randData(r, 6 * 2), [6, 2], { requiresGrad: true }));
    const step = () => E.scope(() => E.backward(E.sumAll(E.loraLinear(x, w, a, b, { scale: 1, dropout: 0.2, seed: 9, training: true }))));
    step();
    E.zeroGrad([a, b]);
    await E.sync();
    const before = E.liveBytes();
    step();
    E.zeroGrad([a, b]);
    await E.sync();
    expect(E.liveBytes()).toBe(before);
    for (const t of [x, w, a, b]) t.dispose();
  });
  it('rejects shapes that do not fit', () => {
    const x = E.tensor(randData(r, 6), [2, 3]);
    const w = E.tensor(randData(r, 12), [4, 3]);
    const a = E.tensor(randData(r, 6), [2, 3]);
    const b = E.tensor(randData(r, 12), [4, 3]);
    expect(() => E.loraLinear(x, w, a, b, { scale: 1, dropout: 0, seed: 0, training: false })).toThrow(
      /loraLinear: shapes do not fit: x \[2, 3\], W \[4, 3\], A \[2, 3\], B \[4, 3\]/,
    );
    for (const t of [x, w, a, b]) t.dispose();
  });
});

describe('loraMerge / loraUnmerge', () => {
  it('merge gives W + scale·B·A (float64 reference), merged linear equals loraLinear, unmerge restores W', async () => {
    for (const backend of ['gpu', 'cpu'] as const) {
      const [N, K, R] = [7, 10, 3];
      const w0 = randData(r, N * K);
      const w = E.tensor(w0, [N, K], { backend });
      const a = E.tensor(randData(r, R * K), [R, K], { backend });
      const b = E.tensor(randData(r, N * R), [N, R], { backend });
      const x = E.tensor(randData(r, 4 * K), [4, K], { backend });
      const id = w.id;
      const yLora = await E.scopeAsync(async () => E.read(E.loraLinear(x, w, a, b, { scale: 0.75, dropout: 0.5, seed: 1, training: false })));
      await E.loraMerge(w, a, b, 0.75);
      expect(w.id).toBe(id);
      const yMerged = await E.scopeAsync(async () => E.read(E.linear(x, w)));
      expect(E.relErr(yMerged, yLora)).toBeLessThan(1e-5);
      await E.loraUnmerge(w, a, b, 0.75);
      expect(E.relErr(await E.read(w), w0)).toBeLessThan(1e-6);
      for (const t of [w, a, b, x]) t.dispose();
    }
  });
  it('refuses a merge that overflows and leaves W unchanged', async () => {
    const w = E.tensor([1, 2, 3, 4], [2, 2]);
    const a = E.tensor([3e38, 1], [1, 2]);
    const b = E.tensor([3e38, 1], [2, 1]);
    await expect(E.loraMerge(w, a, b, 10)).rejects.toThrow(/loraMerge: merged weight \[2, 2\] would contain non-finite values; W left unchanged/);
    expect(await E.toArray(w)).toEqual([1, 2, 3, 4]);
    for (const t of [w, a, b]) t.dispose();
  });
});
