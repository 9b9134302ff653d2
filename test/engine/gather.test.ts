import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from '../../engine/index.ts';
import { gpucheck, gradcheck, type CheckInput } from '../../engine/index.ts';
import { expectSteadyMemory, input, rng } from '../util.ts';
import type { Rng } from '../../engine/random.ts';
import { SCATTER_WG } from '../../kernels/gather/rows.ts';

const r = rng(303);

function ids(rr: Rng, shape: number[], V: number, lo = 0, hi = V): CheckInput {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Array.from({ length: n }, () => lo + rr.int(hi - lo)), dtype: 'i32' };
}

// the scatter (backward) has a row and a subgroup kernel: both where the adapter has subgroups
await E.initEngine();
const families: E.KernelFamily[] = E.subgroupKernelsUsable(SCATTER_WG) ? ['rows', 'subgroup'] : ['rows'];
afterAll(() => E.setKernelFamily(null));

describe('gatherRows scatter families', () => {
  // skipped where the adapter has no subgroup kernel to compare
  it.skipIf(families.length < 2)('the subgroup scatter adds in the row scatter\'s order: bit-identical results', async () => {
    const g = E.randn([301, 20], { seed: 8 });
    const i = E.tensor(Array.from({ length: 301 }, () => r.int(37)), [301], { dtype: 'i32' });
    const out: number[][] = [];
    for (const f of families) {
      E.setKernelFamily(f);
      const y = E.scatterRows(g, i, 37);
      out.push(await E.toArray(y));
      y.dispose();
    }
    E.setKernelFamily(null);
    expect(out[1]).toEqual(out[0]);
    g.dispose();
    i.dispose();
  });
});

for (const family of families)
describe(`gatherRows (${family} scatter)`, () => {
  const cases: [number, number, number[]][] = [
    [7, 5, [9]], // D not a multiple of 4: scalar kernels
    [7, 8, [3, 4]], // vec4 kernels, ids of rank 2
    [1, 1, [1]],
    [13, 3, [2, 1, 3]],
    [70, 12, [300]], // repeated ids, more than one workgroup
  ];
  for (const [V, D, ishape] of cases) {
    it(`table [${V}, ${D}], ids [${ishape}]`, async () => {
      E.setKernelFamily(family);
      const f = (t: E.Tensor, i: E.Tensor) => E.gatherRows(t, i);
      expect(gradcheck(f, [input(r, [V, D]), ids(r, ishape, V)]).ok).toBe(true);
      await gpucheck(f, [input(r, [V, D]), ids(r, ishape, V)]);
    });
  }
  it('rows wider than one scatter chunk (32 columns / vec4 columns) split across invocations', async () => {
    E.setKernelFamily(family);
    const f = (t: E.Tensor, i: E.Tensor) => E.gatherRows(t, i);
    await gpucheck(f, [input(r, [9, 37]), ids(r, [50], 9)]); // scalar: chunks of 32 + 5 columns
    await gpucheck(f, [input(r, [6, 136]), ids(r, [40], 6)]); // vec4: chunks of 32 + 2 vec4 columns
  });
  it('clamps out-of-range ids on both backends (no out-of-bounds read)', async () => {
    E.setKernelFamily(family);
    const f = (t: E.Tensor, i: E.Tensor) => E.gatherRows(t, i);
    await gpucheck(f, [input(r, [6, 4]), ids(r, [40], 6, -5, 12)]);
    await gpucheck(f, [input(r, [6, 3]), ids(r, [40], 6, -5, 12)]);
    const t = E.tensor([10, 11, 20, 21], [2, 2]);
    const i = E.tensor([-3, 1, 99], [3], { dtype: 'i32' });
    const y = E.gatherRows(t, i);
    expect(await E.toArray(y)).toEqual([10, 11, 20, 21, 20, 21]);
    for (const x of [t, i, y]) x.dispose();
  });
  it('the backward is deterministic', async () => {
    E.setKernelFamily(family);
    const t = E.randn([5, 7], { seed: 3, requiresGrad: true });
    const i = E.tensor(Array.from({ length: 200 }, (_, k) => k % 5), [200], { dtype: 'i32' });
    const g = E.randn([200, 7], { seed: 4 });
    const runs: number[][] = [];
    for (let k = 0; k < 2; k++) {
      E.backward(E.gatherRows(t, i), g);
      runs.push(await E.toArray(t.grad!));
      E.zeroGrad([t]);
    }
    expect(runs[0]).toEqual(runs[1]);
    for (const x of [t, i, g]) x.dispose();
  });
  it('rejects bad inputs, naming the op and shapes', () => {
    const t = E.tensor([1, 2, 3, 4], [2, 2]);
    const t3 = E.tensor([1, 2, 3, 4], [1, 2, 2]);
    const fi = E.tensor([0, 1], [2]);
    const i = E.tensor([0, 1], [2], { dtype: 'i32' });
    expect(() => E.gatherRows(t, fi)).toThrow(/gatherRows: expected dtype i32 but got Tensor#\d+\(f32\[2\]/);
    expect(() => E.gatherRows(t3, i)).toThrow(/gatherRows: table must be \[V, D\] with V ≥ 1, got \[1, 2, 2\] \(ids \[2\]\)/);
    t.dispose();
    expect(() => E.gatherRows(t, i)).toThrow(/gatherRows: use of disposed tensor/);
    for (const x of [t3, fi, i]) x.dispose();
  });
  it('forward + backward in a scope leaves live bytes unchanged', async () => {
    const t = E.keep(E.randn([9, 4], { requiresGrad: true }));
    const i = E.keep(E.tensor([1, 8, 1, 0], [4], { dtype: 'i32' }));
    const step = () =>
      E.scope(() => {
        E.backward(E.sumAll(E.gatherRows(t, i)));
        E.zeroGrad([t]);
      });
    await expectSteadyMemory(step);
    t.dispose();
    i.dispose();
  });
});

describe('gatherRows with host ids (the host-indexed scatter)', () => {
  it('scatterIndex: every id\'s position once, grouped by clamped row, ascending within a row', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(fc.integer({ min: -4, max: 16 }), { maxLength: 60 }), (V, ids) => {
        const csr = E.scatterIndex(ids, V);
        expect(csr.length).toBe(V + 1 + ids.length);
        expect(csr[0]).toBe(0);
        expect(csr[V]).toBe(ids.length);
        const seen: number[] = [];
        for (let v = 0; v < V; v++) {
          const pos = Array.from(csr.slice(V + 1 + csr[v]!, V + 1 + csr[v + 1]!));
          expect(pos).toEqual([...pos].sort((a, b) => a - b));
          for (const j of pos) expect(Math.min(Math.max(ids[j]!, 0), V - 1)).toBe(v);
          seen.push(...pos);
        }
        expect(seen.sort((a, b) => a - b)).toEqual(ids.map((_, j) => j));
      }),
    );
  });
  it('adds in the row scatter\'s order: bit-identical to the compare-all kernels', async () => {
    for (const D of [20, 7]) {
      const g = E.randn([301, D], { seed: 8 });
      const host = Array.from({ length: 301 }, () => r.int(45) - 4); // some out of range: clamped alike
      const i = E.tensor(host, [301], { dtype: 'i32' });
      E.setKernelFamily('rows');
      const a = E.scatterRows(g, i, 37);
      E.setKernelFamily(null);
      const b = E.scatterRows(g, i, 37, host);
      expect(await E.toArray(b)).toEqual(await E.toArray(a));
      for (const x of [g, i, a, b]) x.dispose();
    }
  });
  const cases: [number, number, number[]][] = [
    [7, 5, [9]], // D not a multiple of 4: scalar kernel
    [7, 8, [3, 4]], // vec4 kernel, ids of rank 2
    [1, 1, [1]],
    [70, 12, [300]], // repeated ids, rows without ids, more than one workgroup
  ];
  for (const [V, D, ishape] of cases) {
    it(`table [${V}, ${D}], ids [${ishape}]: gradcheck and float64 agreement`, async () => {
      const idIn = ids(r, ishape, V, -2, V + 2);
      const f = (t: E.Tensor, i: E.Tensor) => E.gatherRows(t, i, idIn.data);
      expect(gradcheck(f, [input(r, [V, D]), idIn]).ok).toBe(true);
      await gpucheck(f, [input(r, [V, D]), idIn]);
    });
  }
  it('rejects host ids of another length, naming the op and shapes', () => {
    const t = E.tensor([1, 2, 3, 4], [2, 2]);
    const i = E.tensor([0, 1], [2], { dtype: 'i32' });
    expect(() => E.gatherRows(t, i, [0])).toThrow(/gatherRows: 1 host ids for ids \[2\] \(2\)/);
    for (const x of [t, i]) x.dispose();
  });
});
