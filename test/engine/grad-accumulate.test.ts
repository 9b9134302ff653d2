// A tensor read by several products (q/k/v of one normed input, gate/up) gets its gradients summed
// by the products' own writes (GradNode.backward's `into`, kernels/matmul/broadcast.ts `accumulate`):
// the same bits as the product followed by add(), one dispatch and one buffer fewer per extra reader.
import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { gpucheck, type CheckInput } from '../../engine/index.ts';
import { gpuSync } from '../../engine/device.ts';
import { matmulAccumulateRaw } from '../../engine/ops/matmul.ts';
import { swigluLinear } from '../../engine/ops/swiglu-linear.ts';
import { onLaunch } from '../../engine/runtime.ts';
import { input, randData, rng } from '../util.ts';

const r = rng(4242);
const hasBroadcast = () => gpuSync().info.isSoftware && gpuSync().info.subgroupSize !== null;

/** h = x ⊙ s (an intermediate), read by products with weights ws (linear: x·Wᵀ; else x·W); loss weights cs. */
function readers(tB: boolean) {
  return (x: E.Tensor, s: E.Tensor, ...ws: E.Tensor[]) => {
    const h = E.mul(x, s);
    const ys = ws.map((w) => E.matmul(h, w, { transB: tB }));
    return ys.reduce((acc, y, i) => E.add(acc, E.mulScalar(E.sumAll(E.mul(y, y)), 0.5 + i)), E.mulScalar(E.sumAll(h), 0));
  };
}

/** Backward of f on fresh tensors of `data`, with the in-place sums on and off: gradients, kernels whose name marks an in-place sum (`_acc`), `add` launches and dispatches of each. */
async function withAndWithout(f: (...xs: E.Tensor[]) => E.Tensor, data: CheckInput[]) {
  const run = (inPlace: boolean) =>
    E.scopeAsync(async () => {
      E.setInPlaceAccumulation(inPlace);
      const ts = data.map((d) => E.tensor(d.data, d.shape, { requiresGrad: true }));
      const names: string[] = [];
      onLaunch((l) => names.push(l.kernel.name));
      const before = E.dispatchCount();
      try {
        E.backward(f(...ts));
      } finally {
        onLaunch(null);
        E.setInPlaceAccumulation(true);
      }
      const n = E.dispatchCount() - before;
      const grads = await Promise.all(ts.map((t) => E.read(t.grad!)));
      for (const t of ts) E.zeroGrad([t]);
      return { grads, n, acc: names.filter((k) => k.includes('_acc')), adds: names.filter((k) => k.startsWith('binary_add')).length };
    });
  return [await run(true), await run(false)] as const;
}

describe('gradients summed into the first by the products that read a tensor', () => {
  for (const [variant, flat] of [[null, false], ['broadcast32', false], [null, true]] as const) {
    for (const tB of [true, false]) {
      it(`${variant ?? 'tuned variant'}, ${flat ? '2-D' : '3-D'} x, ${tB ? 'x·Wᵀ' : 'x·W'}: GPU vs float64, and bit for bit the product + add, with fewer dispatches`, async () => {
        E.setMatmulVariant(variant);
        try {
          const [B, T, K] = [3, 37, 20];
          const outs = [12, 28, 36];
          const xs = flat ? [B * T, K] : [B, T, K];
          const ins = () => [input(r, xs), input(r, [K]), ...outs.map((n) => input(r, tB ? [n, K] : [K, n]))];
          const f = readers(tB);
          await gpucheck(f, ins(), { fwdTol: 1e-5, bwdTol: 1e-5 });
          // the same inputs with and without the in-place sums
          const data = ins();
          const [fused, plain] = await withAndWithout(f, data);
          fused.grads.forEach((g, i) => expect(Array.from(g), `gradient of input ${i}`).toEqual(Array.from(plain.grads[i]!)));
          const expected = hasBroadcast() ? outs.length - 1 : 0;
          expect(fused.acc.filter((k) => k.includes('_acc_')).length).toBe(expected);
          expect(plain.acc).toEqual([]);
          expect(plain.adds - fused.adds).toBe(expected);
          expect(plain.n - fused.n).toBeGreaterThanOrEqual(expected); // (the test set-up's NaN poisoning fills each fresh buffer: more here)
        } finally {
          E.setMatmulVariant(null);
          E.setInPlaceAccumulation(true);
        }
      });
    }
  }

  it('a residual stream: the norm backward and a row gather sum into the pass-through gradient; an embedding read twice sums its second scatter into the first', async () => {
    const [B, T, D, V] = [3, 29, 64, 53];
    const ids1 = Array.from({ length: B * T }, () => r.int(V));
    const ids2 = Array.from({ length: 17 }, () => r.int(V));
    const sel = [5, 0, 33, 5, 86, 12];
    // h = emb[ids1] ⊙ s ([B·T, D]); y = h + (rmsNorm(h, w)·W); loss = Σ y² + Σ h[sel]² + Σ emb[ids2]
    // (h[sel]: a gather without host ids, as the relevance forward's answer rows)
    const f = (emb: E.Tensor, s: E.Tensor, w: E.Tensor, W: E.Tensor) => {
      const cpu = emb.backend === 'cpu';
      const i1 = E.tensor(Int32Array.from(ids1), [B * T], { dtype: 'i32', backend: emb.backend });
      const i2 = E.tensor(Int32Array.from(ids2), [17], { dtype: 'i32', backend: emb.backend });
      const is = E.tensor(Int32Array.from(sel), [sel.length], { dtype: 'i32', backend: emb.backend });
      const h = E.mul(E.gatherRows(emb, i1, cpu ? undefined : ids1), s);
      const y = E.add(h, E.matmul(E.rmsNorm(h, w), W, { transB: true }));
      const hs = E.gatherRows(h, is);
      // (the tape runs later terms first: h[sel]'s scatter comes after y's gradients)
      return E.add(E.add(E.sumAll(E.mul(hs, hs)), E.sumAll(E.mul(y, y))), E.sumAll(E.gatherRows(emb, i2, cpu ? undefined : ids2)));
    };
    const ins = () => [input(r, [V, D]), input(r, [D]), input(r, [D]), input(r, [D, D])];
    await gpucheck(f, ins(), { fwdTol: 1e-5, bwdTol: 2e-5 });
    const data = ins();
    {
      const [fused, plain] = await withAndWithout(f, data);
      fused.grads.forEach((g, i) => expect(Array.from(g), `gradient of input ${i}`).toEqual(Array.from(plain.grads[i]!)));
      expect(plain.acc).toEqual([]);
      const norm = hasBroadcast() ? 1 : 0; // the subgroup norm kernels run where the broadcast ones do
      expect(fused.acc.filter((k) => k.startsWith('rmsnorm')).length).toBe(norm);
      expect(fused.acc.filter((k) => k.startsWith('gather_rows_backward_csr')).length).toBe(1);
      expect(fused.acc.filter((k) => k.startsWith('gather_rows_backward_subgroup')).length).toBe(norm);
      expect(plain.adds - fused.adds).toBe(1 + 2 * norm);
    }
  });

  it('a weight two sub-batches read (linear, linearAdd, swigluLinear, a 2-D and a 3-D matmul, rmsNorm): its second gradient summed into the first, bit for bit the product + add', async () => {
    const [B, T, D, F] = [2, 14, 16, 20]; // B·T % 4 = 0: the weight-gradient products run the broadcast kernel (K = rows)
    // two sub-batches x1 [B·T, D] and x2 [B, T, D] through the same weights, as the SFT step's relevance and LM rows
    const f = (x1: E.Tensor, x2: E.Tensor, nw: E.Tensor, wq: E.Tensor, wo: E.Tensor, wg: E.Tensor, wu: E.Tensor, m: E.Tensor) => {
      const block = (x: E.Tensor) => {
        const h = E.rmsNorm(x, nw, 1e-5);
        const q = E.linear(h, wq);
        const y = E.linearAdd(q, wo, x);
        const g = E.linear(y, wg);
        const a = swigluLinear(g, y, wu);
        return E.sumAll(E.mul(a, a));
      };
      const extra = E.sumAll(E.matmul(E.reshape(x1, [B * T, D]), m)); // a 2-D matmul (not matmulFlat) reading m
      const extra2 = E.sumAll(E.mul(E.matmul(E.reshape(x1, [B * T, D]), m), E.matmul(E.reshape(x1, [B * T, D]), m)));
      return E.add(E.add(block(x1), block(x2)), E.add(extra, extra2));
    };
    const ins = () => [input(r, [B * T, D]), input(r, [B, T, D]), input(r, [D]), input(r, [D, D]), input(r, [D, D]), input(r, [F, D]), input(r, [F, D]), input(r, [D, 8])];
    await gpucheck(f, ins(), { fwdTol: 1e-5, bwdTol: 2e-5 });
    const [fused, plain] = await withAndWithout(f, ins());
    fused.grads.forEach((g, i) => expect(Array.from(g), `gradient of input ${i}`).toEqual(Array.from(plain.grads[i]!)));
    expect(plain.acc).toEqual([]);
    if (!hasBroadcast()) return;
    // second gradients of wq, wo, wg, wu (matmul and projection rules), m (2-D matmul, read twice more) and nw (the norm's partial sums)
    expect(fused.acc.filter((k) => k.startsWith('rmsnorm_sum_parts_acc')).length).toBe(1);
    // 7 weight gradients summed in place (wq, wo, wg, wu, m's 2nd and 3rd, nw) and 2 activation gradients
    expect(plain.adds - fused.adds).toBe(9);
  });

  it('never adds into a leaf gradient that was there before backward() (the caller may hold it)', async () => {
    const V = 11;
    const ids = [3, 1, 3, 7, 0, 10];
    const emb = E.tensor(randData(r, V * 8), [V, 8], { requiresGrad: true });
    const i = E.tensor(Int32Array.from(ids), [6], { dtype: 'i32' });
    const loss = () => E.add(E.sumAll(E.gatherRows(emb, i, ids)), E.sumAll(E.mul(E.gatherRows(emb, i, ids), E.gatherRows(emb, i, ids))));
    const names: string[] = [];
    onLaunch((l) => names.push(l.kernel.name));
    E.backward(loss());
    onLaunch(null);
    const once = Array.from(await E.read(emb.grad!));
    expect(names.filter((k) => k.includes('_acc')).length).toBe(2); // within one call, the 2nd and 3rd scatters sum into the 1st
    const held = emb.grad!;
    names.length = 0;
    onLaunch((l) => names.push(l.kernel.name));
    E.backward(loss());
    onLaunch(null);
    expect(emb.grad).not.toBe(held); // the earlier gradient is replaced by a sum, not written in place
    expect(names.filter((k) => k.includes('_acc')).length).toBe(0);
    expect(E.relErr(await E.read(emb.grad!), Float64Array.from(once, (v) => 2 * v))).toBeLessThan(1e-6);
    E.zeroGrad([emb]);
  });

  it('mixed precision (linearHalf): on widened operands an input three products read and a weight two read get their second gradients summed in, bit for bit the product + add; f16 operands add apart', async () => {
    // rows 52 and 24: the weight gradient's product sums over rows, and the broadcast kernels take K % 4 = 0
    const [rows, rows2, K] = [52, 24, 20];
    const outs = [12, 28, 36];
    // h = x ⊙ s read by three projections (q/k/v), and the second weight (28 × 20, a broadcast product's
    // gradient; the fixed rule gives 12 × 20 the register kernel) read again by a second input (two sub-batches)
    const f = (x: E.Tensor, s: E.Tensor, x2: E.Tensor, ...ws: E.Tensor[]) => {
      const h = E.mul(x, s);
      const ys = [...ws.map((w) => E.linearHalf(h, w)), E.linearHalf(x2, ws[1]!)];
      return ys.reduce((acc, y, i) => E.add(acc, E.mulScalar(E.sumAll(E.mul(y, y)), 0.5 + i)), E.mulScalar(E.sumAll(h), 0));
    };
    for (const variant of ['widen', 'f16'] as const) {
      if (!E.matmulF16Variants(gpuSync().info).includes(variant)) continue;
      E.setMatmulVariant(variant);
      try {
        const data = [input(r, [rows, K]), input(r, [K]), input(r, [rows2, K]), ...outs.map((n) => input(r, [n, K]))];
        const [fused, plain] = await withAndWithout(f, data);
        fused.grads.forEach((g, i) => expect(Array.from(g), `${variant}: gradient of input ${i}`).toEqual(Array.from(plain.grads[i]!)));
        // widened: dx of the 2nd and 3rd readers of h, and dW of the second weight's second reader
        const expected = variant === 'widen' && hasBroadcast() ? outs.length : 0;
        expect(fused.acc.filter((k) => k.includes('_acc_')).length, variant).toBe(expected);
        expect(plain.acc, variant).toEqual([]);
        expect(plain.adds - fused.adds, variant).toBe(expected);
      } finally {
        E.setMatmulVariant(null);
        E.setInPlaceAccumulation(true);
      }
    }
  });

  it('adds into a gradient only when its storage is its own; else the caller adds', async () => {
    if (!hasBroadcast()) return;
    await E.scopeAsync(async () => {
      const a = E.tensor(randData(r, 30 * 8), [30, 8]);
      const b = E.tensor(randData(r, 8 * 12), [8, 12]);
      const c0 = randData(r, 30 * 12);
      const into = E.tensor(c0, [30, 12]);
      const shared = E.reshape(into, [12, 30]);
      expect(matmulAccumulateRaw(a, b, false, false, into)).toBe(false);
      shared.dispose();
      expect(matmulAccumulateRaw(a, b, false, false, into)).toBe(true);
      const want = await E.read(E.add(E.tensor(c0, [30, 12]), E.matmul(a, b)));
      expect(Array.from(await E.read(into))).toEqual(Array.from(want));
    });
  });
});
