// toF16 / toF32: bit-exact against the host's round-to-nearest-even (specials, every f16 value),
// forward and gradients against the float64 reference, finite-difference gradchecks, odd sizes.
import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { gpucheck, gradcheck } from '../../engine/index.ts';
import { f16ToF32, roundF16 } from '../../engine/half.ts';
import { input, rng } from '../util.ts';

const r = rng(1616);
// one word past a workgroup's 512 elements, single elements, odd counts
const sizes = [[1], [3], [513], [7, 77], [2, 3, 129]];

describe('toF16 / toF32 forward', () => {
  it('round specials as the host does: overflow to ±Inf, subnormals, ties to even, NaN, ±0', async () => {
    const v = [
      65504, 65519, 65520, -65520, 3.4e38, Infinity, -Infinity, NaN, 0, -0,
      2 ** -24, 2 ** -25, 3 * 2 ** -25, 2 ** -26, 1e-8, -1e-7, 2 ** -14 - 2 ** -26, 6.1e-5,
      1 + 2 ** -11, 1 + 3 * 2 ** -11, 1e-40 /* an f32 subnormal */, 0.1, -2049, 2049, 4097,
    ];
    const x = E.tensor(v, [v.length]);
    const h = E.toF16(x);
    const back = await E.read(E.toF32(h));
    const want = v.map((a) => roundF16(Math.fround(a)));
    for (let i = 0; i < v.length; i++) {
      if (Number.isNaN(want[i]!)) expect(back[i], `element ${i} (${v[i]})`).toBeNaN();
      else expect(Object.is(back[i], want[i]), `element ${i} (${v[i]}): ${back[i]} vs ${want[i]}`).toBe(true);
    }
  });
  it('roundToF16Raw: the bits of toF32(toF16(x)) in f32, on the specials and on fresh random data of odd sizes', async () => {
    const v = [
      65504, 65519, 65520, -65520, 3.4e38, Infinity, -Infinity, NaN, 0, -0,
      2 ** -24, 2 ** -25, 3 * 2 ** -25, 2 ** -26, 1e-8, -1e-7, 2 ** -14 - 2 ** -26, 6.1e-5,
      1 + 2 ** -11, 1 + 3 * 2 ** -11, 1e-40, 0.1, -2049, 2049, 4097,
    ];
    const rand = Array.from({ length: 257 + 513 }, () => (r.uniform() - 0.5) * 2 ** Math.floor(r.uniform() * 40 - 25));
    for (const data of [v, rand]) {
      const x = E.tensor(data, [data.length]);
      const got = await E.read(E.roundToF16Raw(x));
      const want = await E.read(E.toF32(E.toF16(x)));
      expect(E.roundToF16Raw(x).dtype).toBe('f32');
      for (let i = 0; i < data.length; i++) {
        if (Number.isNaN(want[i]!)) expect(got[i], `element ${i} (${data[i]})`).toBeNaN();
        else expect(Object.is(got[i], want[i]), `element ${i} (${data[i]}): ${got[i]} vs ${want[i]}`).toBe(true);
      }
      const cpu = await E.read(E.roundToF16Raw(E.tensor(data, [data.length], { backend: 'cpu' })));
      for (let i = 0; i < data.length; i++) if (!Number.isNaN(want[i]!)) expect(Object.is(cpu[i], want[i]), `cpu element ${i}`).toBe(true);
    }
  });
  it('widen every f16 value exactly and narrow it back to itself (all 65536 bit patterns)', async () => {
    const all = Array.from({ length: 0x10000 }, (_, h) => f16ToF32(h));
    const h = E.tensor(all, [all.length], { dtype: 'f16' });
    const wide = await E.read(E.toF32(h));
    const again = await E.read(E.toF32(E.toF16(E.toF32(h))));
    for (let i = 0; i < all.length; i++) {
      const ok = Number.isNaN(all[i]!) ? Number.isNaN(wide[i]!) && Number.isNaN(again[i]!) : Object.is(wide[i], all[i]) && Object.is(again[i], all[i]);
      if (!ok) throw new Error(`f16 0x${i.toString(16)}: ${all[i]} → ${wide[i]} → ${again[i]}`);
    }
  });
  for (const shape of sizes) {
    it(`match the reference exactly on [${shape}]`, async () => {
      const inp = input(r, shape, 1e-6, 6e4); // subnormals to near the largest f16 (overflow: the specials test)
      const fwd = await gpucheck((x) => E.toF32(E.toF16(x)), [inp], { fwdTol: 0, backward: false });
      expect(fwd.fwdErr).toBe(0);
    });
  }
});

describe('toF16 / toF32 gradients', () => {
  for (const shape of sizes) {
    it(`GPU gradients match the reference on [${shape}]`, async () => {
      // d/dx of Σ v·toF32(toF16(x))² is toF32(toF16(2·x16·v)): one rounding to f16 on each side
      const f = (x: E.Tensor) => {
        const y = E.toF32(E.toF16(x));
        return E.mul(y, y);
      };
      await gpucheck(f, [input(r, shape)], { fwdTol: 1e-7, bwdTol: 2 ** -11 });
      // an f16 input: its gradient is f16
      await gpucheck((x) => E.mul(E.toF32(x), E.toF32(x)), [{ ...input(r, shape), dtype: 'f16' }], { fwdTol: 1e-7, bwdTol: 2 ** -11 });
    });
  }
  it('gradcheck: the gradient of a cast is the gradient cast back', () => {
    gradcheck((x) => E.mul(E.toF32(E.toF16(x)), E.toF32(E.toF16(x))), [input(r, [3, 5])]);
    gradcheck((x) => E.mul(E.toF32(x), E.toF32(x)), [{ ...input(r, [7]), dtype: 'f16' }]);
  });
  it('a gradient cast to f16 is an f16 tensor', async () => {
    const x = E.tensor([1, 2, 3], [3], { dtype: 'f16', requiresGrad: true });
    E.backward(E.sum(E.mul(E.toF32(x), E.toF32(x)), 0));
    expect(x.grad!.dtype).toBe('f16');
    expect(Array.from(await E.read(x.grad!))).toEqual([2, 4, 6]);
  });
});

describe('cast errors', () => {
  it('name the op and the dtype', () => {
    const a = E.tensor([1, 2], [2]);
    const i = E.tensor([1, 2], [2], { dtype: 'i32' });
    expect(() => E.toF32(a)).toThrow(/toF32: expected dtype f16 but got Tensor#\d+\(f32\[2\]/);
    expect(() => E.toF16(i)).toThrow(/toF16: expected dtype f32 but got Tensor#\d+\(i32\[2\]/);
    expect(() => E.toF16(E.toF16(a))).toThrow(/toF16: expected dtype f32 but got Tensor#\d+\(f16\[2\]/);
  });
});
