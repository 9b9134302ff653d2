import { afterAll, describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { gpucheck, gradcheck } from '../../engine/index.ts';
import { normBackwardW, normBackwardX, normForward } from '../../kernels/norm/rows.ts';
import { NORM_SG_WG, normBackwardSubgroup, normSumParts } from '../../kernels/norm/subgroup.ts';
import { NORM_SEG_ROWS, normBackwardSegments, normRowCoefs } from '../../kernels/norm/segments.ts';
import { setNormRowsBackward } from '../../engine/ops/norm.ts';
import { onLaunch } from '../../engine/runtime.ts';
import { gpuSync } from '../../engine/device.ts';
import { expectSteadyMemory, input, rng } from '../util.ts';

const r = rng(99);
// rows × D with D not a multiple of 4 (scalar kernels), multiples of 4 (vec4 kernels), size-1 dims,
// and more rows than one workgroup (64); for the subgroup kernels also rows not a multiple of their
// 8 rows per subgroup and rows longer than one vec4 per lane (D 136: 34 vec4).
const shapes = [[5, 7], [2, 3, 12], [1, 8], [4, 1], [3, 37], [70, 20], [1, 1, 5], [19, 64], [9, 136]];
await E.initEngine();
const families: E.KernelFamily[] = E.subgroupKernelsUsable(NORM_SG_WG) ? ['rows', 'subgroup'] : ['rows'];
afterAll(() => E.setKernelFamily(null));

for (const family of families)
describe(`rmsNorm (${family} kernels)`, () => {
  for (const shape of shapes) {
    const D = shape[shape.length - 1]!;
    it(`[${shape}]`, async () => {
      E.setKernelFamily(family);
      const f = (x: E.Tensor, w: E.Tensor) => E.rmsNorm(x, w, 1e-6);
      expect(gradcheck(f, [input(r, shape), input(r, [D])]).ok).toBe(true);
      // D = 1: dx = g·r·eps/(x² + eps) is a cancellation of two O(1) terms, ill-conditioned in f32
      // by construction; there the GPU is checked on the forward only.
      await gpucheck(f, [input(r, shape), input(r, [D])], { fwdTol: 1e-5, bwdTol: 1e-4, backward: D > 1 });
    });
  }
  it('matches y = x / sqrt(mean(x²) + eps) · w on a hand-computed row', async () => {
    const x = E.tensor([3, 4], [1, 2]);
    const w = E.tensor([1, 2], [2]);
    const y = await E.toArray(E.rmsNorm(x, w, 0));
    const rs = 1 / Math.sqrt((9 + 16) / 2);
    expect(y[0]).toBeCloseTo(3 * rs, 6);
    expect(y[1]).toBeCloseTo(8 * rs, 6);
  });
});

for (const family of families)
describe(`layerNorm (${family} kernels)`, () => {
  for (const shape of shapes) {
    const D = shape[shape.length - 1]!;
    it(`[${shape}]`, async () => {
      E.setKernelFamily(family);
      const f = (x: E.Tensor, w: E.Tensor, b: E.Tensor) => E.layerNorm(x, w, b, 1e-5);
      expect(gradcheck(f, [input(r, shape), input(r, [D]), input(r, [D])]).ok).toBe(true);
      await gpucheck(f, [input(r, shape), input(r, [D]), input(r, [D])], { fwdTol: 1e-5, bwdTol: 1e-4 });
    });
  }
  it('gradient only for some inputs (frozen weight and bias; frozen x)', async () => {
    E.setKernelFamily(family);
    const f = (x: E.Tensor, w: E.Tensor, b: E.Tensor) => E.layerNorm(x, w, b);
    for (const D of [9, 12]) {
      const ins = [input(r, [6, D]), { ...input(r, [D]), requiresGrad: false }, { ...input(r, [D]), requiresGrad: false }];
      expect(gradcheck(f, ins).ok).toBe(true);
      await gpucheck(f, ins, { fwdTol: 1e-5, bwdTol: 1e-4 });
      const frozenX = [{ ...input(r, [11, D]), requiresGrad: false }, input(r, [D]), input(r, [D])];
      await gpucheck(f, frozenX, { fwdTol: 1e-5, bwdTol: 1e-4 });
    }
  });
});

describe('the segment kernels (rows the subgroup kernel does not hold, D % 4 = 0)', () => {
  // [rows, D]: fewer rows than a segment, a ragged last segment, long rows (D 1028: past the subgroup kernel everywhere on lavapipe)
  const segShapes: [number, number][] = [[6, 12], [70, 20], [NORM_SEG_ROWS + 1, 136], [65, 1028]];
  const fam = (D: number): E.KernelFamily | null => (D <= 256 ? 'rows' : null);
  afterAll(() => setNormRowsBackward(false));

  it('rmsNorm and layerNorm against float64 (gradcheck and the GPU), and the segment kernels are what ran', async () => {
    for (const [rows, D] of segShapes) {
      E.setKernelFamily(fam(D));
      const names = new Set<string>();
      onLaunch((l) => names.add(l.kernel.name));
      try {
        const rms = (x: E.Tensor, w: E.Tensor) => E.rmsNorm(x, w, 1e-6);
        const layer = (x: E.Tensor, w: E.Tensor, b: E.Tensor) => E.layerNorm(x, w, b, 1e-5);
        if (rows * D < 5000) expect(gradcheck(rms, [input(r, [rows, D]), input(r, [D])]).ok).toBe(true);
        await gpucheck(rms, [input(r, [rows, D]), input(r, [D])], { fwdTol: 1e-5, bwdTol: 1e-4 });
        await gpucheck(layer, [input(r, [rows, D]), input(r, [D]), input(r, [D])], { fwdTol: 1e-5, bwdTol: 1e-4 });
      } finally {
        onLaunch(null);
      }
      for (const k of ['rmsnorm_bwd_coefs', 'rmsnorm_bwd_segments_dx_dw', 'layernorm_bwd_coefs', 'layernorm_bwd_segments_dx_dw']) expect(names.has(k), `${k} at [${rows}, ${D}]`).toBe(true);
    }
  });

  it('dx bit for bit the row kernels\' (the same expressions in the same order), dw and db within f32 rounding', async () => {
    for (const [rows, D] of segShapes)
      for (const kind of ['rms', 'layer'] as const) {
        E.setKernelFamily(fam(D));
        const xd = input(r, [rows, D]);
        const wd = input(r, [D]);
        const bd = input(r, [D]);
        const gd = input(r, [rows, D]);
        const run = (rowsKernels: boolean) =>
          E.scopeAsync(async () => {
            setNormRowsBackward(rowsKernels);
            const x = E.tensor(xd.data, xd.shape, { requiresGrad: true });
            const w = E.tensor(wd.data, wd.shape, { requiresGrad: true });
            const b = E.tensor(bd.data, bd.shape, { requiresGrad: true });
            const y = kind === 'rms' ? E.rmsNorm(x, w) : E.layerNorm(x, w, b);
            E.backward(E.sumAll(E.mul(y, E.tensor(gd.data, gd.shape))));
            const out = [await E.read(x.grad!), await E.read(w.grad!), ...(kind === 'layer' ? [await E.read(b.grad!)] : [])];
            setNormRowsBackward(false);
            return out;
          });
        const [seg, old] = [await run(false), await run(true)];
        const what = `${kind} [${rows}, ${D}]`;
        for (let i = 0; i < seg[0]!.length; i++) if (!Object.is(seg[0]![i], old[0]![i])) throw new Error(`${what}: dx[${i}] is ${seg[0]![i]}, the row kernel gives ${old[0]![i]}`);
        for (let t = 1; t < seg.length; t++) {
          let scale = 0;
          for (const v of old[t]!) scale = Math.max(scale, Math.abs(v));
          for (let i = 0; i < D; i++) expect(Math.abs(seg[t]![i]! - old[t]![i]!) / scale, `${what} gradient ${t} [${i}]`).toBeLessThan(1e-5);
        }
      }
  });

  it('a second gradient is summed in place (x read by two norms, a weight read by two inputs) against float64', async () => {
    E.setKernelFamily('rows');
    const names: string[] = [];
    onLaunch((l) => names.push(l.kernel.name));
    try {
      const D = 20;
      const twoNorms = (x: E.Tensor, w1: E.Tensor, w2: E.Tensor) => E.add(E.rmsNorm(x, w1), E.mulScalar(E.rmsNorm(x, w2), 0.5));
      await gpucheck(twoNorms, [input(r, [37, D]), input(r, [D]), input(r, [D])], { fwdTol: 1e-5, bwdTol: 1e-4 });
      const oneWeight = (x1: E.Tensor, x2: E.Tensor, w: E.Tensor) => E.add(E.sumAll(E.rmsNorm(x1, w)), E.sumAll(E.mul(E.rmsNorm(x2, w), E.rmsNorm(x2, w))));
      await gpucheck(oneWeight, [input(r, [41, D]), input(r, [9, D]), input(r, [D])], { fwdTol: 1e-5, bwdTol: 1e-4 });
    } finally {
      onLaunch(null);
    }
    expect(names).toContain('rmsnorm_bwd_segments_dx_dw_acc');
    expect(names).toContain('rmsnorm_sum_parts_acc');
  });
});

describe('norm kernels and errors', () => {
  it('every kernel compiles', async () => {
    for (const kind of ['rms', 'layer'] as const)
      for (const vec of [false, true]) {
        await E.precompile(normForward(kind, vec));
        await E.precompile(normBackwardX(kind, vec));
        await E.precompile(normBackwardW(kind, vec));
        if (vec) {
          await E.precompile(normRowCoefs(kind));
          for (const [dx, dw, acc] of [[true, true, false], [true, false, false], [false, true, false], [true, true, true], [true, false, true]] as const) await E.precompile(normBackwardSegments(kind, dx, dw, acc));
        }
        const SG = gpuSync().info.subgroupSize;
        if (SG !== null) {
          for (const [dx, dw, acc] of [[true, true, false], [true, false, false], [false, true, false], [true, true, true]] as const) await E.precompile(normBackwardSubgroup(kind, 16, SG, dx, dw, acc));
          await E.precompile(normSumParts(kind, false));
          if (kind === 'rms') await E.precompile(normSumParts(kind, true));
        }
      }
  });
  it('rejects a weight of the wrong length and a non-f32 input, naming the op and shapes', () => {
    const x = E.tensor(new Array(6).fill(1), [2, 3]);
    const w = E.tensor([1, 1], [2]);
    const b = E.tensor([1, 1, 1], [3]);
    const xi = E.tensor([1, 2, 3], [1, 3], { dtype: 'i32' });
    expect(() => E.rmsNorm(x, w)).toThrow(/rmsNorm: weight must have shape \[3\] \(x \[2, 3\], weight \[2\]\)/);
    expect(() => E.layerNorm(x, b, w)).toThrow(/layerNorm: bias must have shape \[3\]/);
    expect(() => E.rmsNorm(xi, b)).toThrow(/rmsNorm: expected dtype f32/);
    for (const t of [x, w, b, xi]) t.dispose();
  });
  it('forward + backward in a scope leaves live bytes unchanged', async () => {
    const x = E.keep(E.randn([9, 16], { seed: 3, requiresGrad: true }));
    const w = E.keep(E.randn([16], { seed: 4, requiresGrad: true }));
    const b = E.keep(E.randn([16], { seed: 5, requiresGrad: true }));
    const step = () =>
      E.scope(() => {
        E.zeroGrad([x, w, b]);
        const y = E.add(E.rmsNorm(x, w), E.layerNorm(x, w, b));
        E.backward(E.sumAll(E.mul(y, y)));
      });
    await expectSteadyMemory(step, { repeats: 3 });
    E.zeroGrad([x, w, b]);
    for (const t of [x, w, b]) t.dispose();
  });
});
