// f16 tensors: host rounding (nearest even, once, from float64), 2-byte GPU storage rounded up to
// whole words, upload/readback, fill and poison, the reference backend's rounded values, and clear
// errors from ops without an f16 kernel.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as E from '../../engine/index.ts';
import { f16ToF32, f32ToF16, roundF16 } from '../../engine/half.ts';
import { bytesOf } from '../../engine/tensor.ts';
import { randData, rng } from '../util.ts';

/** The f16 values around x by brute force: the largest ≤ x and the smallest ≥ x (finite range). */
function neighbours(x: number): [number, number] {
  let lo = -Infinity;
  let hi = Infinity;
  for (let h = 0; h < 0x10000; h++) {
    const v = f16ToF32(h);
    if (Number.isNaN(v)) continue;
    if (v <= x && v > lo) lo = v;
    if (v >= x && v < hi) hi = v;
  }
  return [lo, hi];
}

describe('f16 host rounding', () => {
  it('rounds once from float64 (no double rounding through f32)', () => {
    // 1 + 2^-11 + 2^-40 rounds to f32 as the tie 1 + 2^-11, which would then go to 1; it is above the tie
    expect(roundF16(1 + 2 ** -11 + 2 ** -40)).toBe(1 + 2 ** -10);
    expect(f32ToF16(1 + 2 ** -11 + 2 ** -40)).toBe(0x3c01);
    expect(roundF16(1 + 2 ** -11)).toBe(1); // exact tie → even
    expect(roundF16(1 + 3 * 2 ** -11)).toBe(1 + 2 * 2 ** -10);
  });
  it('handles overflow, subnormals, signed zero and NaN', () => {
    expect(roundF16(65504)).toBe(65504);
    expect(roundF16(65519.99)).toBe(65504);
    expect(roundF16(65520)).toBe(Infinity); // the tie above the largest finite f16 goes to Inf (odd mantissa)
    expect(roundF16(-1e6)).toBe(-Infinity);
    expect(roundF16(2 ** -24)).toBe(2 ** -24);
    expect(roundF16(2 ** -25)).toBe(0); // tie → even (0)
    expect(roundF16(2 ** -25 + 2 ** -60)).toBe(2 ** -24);
    expect(Object.is(roundF16(-(2 ** -30)), -0)).toBe(true);
    expect(roundF16(3 * 2 ** -25)).toBe(2 ** -23);
    expect(roundF16(2 ** -14 - 2 ** -26)).toBe(2 ** -14); // subnormal rounds up into the normal range
    expect(roundF16(NaN)).toBeNaN();
    expect(f32ToF16(NaN) & 0x7c00).toBe(0x7c00);
    expect(f32ToF16(NaN) & 0x3ff).not.toBe(0);
    expect(f32ToF16(-0)).toBe(0x8000);
    expect(f32ToF16(-Infinity)).toBe(0xfc00);
  });
  it('every f16 value survives bits → value → bits', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && h & 0x3ff) continue; // NaNs
      if (f32ToF16(f16ToF32(h)) !== h) throw new Error(`f16 round trip fails for 0x${h.toString(16)}`);
    }
  });
  it('is the nearest f16, ties to even (property, against brute force)', () => {
    fc.assert(
      fc.property(fc.double({ min: -70000, max: 70000, noNaN: true }), (x) => {
        const r = roundF16(x);
        if (Math.abs(x) >= 65520) return r === Math.sign(x) * Infinity;
        const [lo, hi] = neighbours(x);
        const dl = x - lo;
        const dh = hi - x;
        if (dl < dh) return r === lo || (lo === 0 && r === 0);
        if (dh < dl) return r === hi || (hi === 0 && r === 0);
        return r === (f32ToF16(lo) & 1 ? hi : lo);
      }),
      { numRuns: 60 },
    );
  });
});

describe('f16 tensors', () => {
  it('take 2 bytes an element, rounded up to whole words', () => {
    expect(bytesOf('f16', 0)).toBe(0);
    expect(bytesOf('f16', 1)).toBe(4);
    expect(bytesOf('f16', 3)).toBe(8);
    expect(bytesOf('f16', 4)).toBe(8);
    expect(bytesOf('f32', 3)).toBe(12);
  });
  for (const n of [1, 2, 3, 257, 1001]) {
    it(`upload and read back ${n} values (GPU and reference agree on the rounded values)`, async () => {
      const data = randData(rng(n), n, 1e-6, 3e4);
      data[0] = 70000; // overflows to Inf
      const want = Array.from(data, roundF16);
      const g = E.tensor(data, [n], { dtype: 'f16' });
      const c = E.tensor(data, [n], { dtype: 'f16', backend: 'cpu' });
      expect(Array.from(await E.read(g))).toEqual(want);
      expect(Array.from(await E.read(c))).toEqual(want);
      g.dispose();
      c.dispose();
    });
  }
  it('fill writes every element of an odd-sized tensor (the value rounded to f16)', async () => {
    const t = E.fill([5, 3], 0.1, 'gpu', 'f16');
    expect(Array.from(await E.read(t))).toEqual(new Array(15).fill(roundF16(0.1)));
    t.dispose();
  });
  it('fresh outputs are poisoned with f16 NaN in every element', async () => {
    const t = E.empty([7], 'f16');
    expect(Array.from(await E.read(t)).every(Number.isNaN)).toBe(true);
    t.dispose();
  });
  it('survives a checkpoint round trip', async () => {
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const path = join(tmpdir(), 'f16.ckpt');
    const data = randData(rng(3), 9);
    const t = E.tensor(data, [3, 3], { dtype: 'f16' });
    await E.saveCheckpoint(path, { config: {}, step: 1, tensors: { t } });
    const back = await E.loadCheckpoint(path);
    const u = E.empty([3, 3], 'f16');
    E.loadTensorsInto({ t: u }, back.tensors);
    expect(Array.from(await E.read(u))).toEqual(Array.from(data, roundF16));
    t.dispose();
    u.dispose();
  });
  it('ops without an f16 kernel say so, naming the op and the dtype', () => {
    const a = E.tensor([1, 2, 3, 4, 5, 6], [2, 3], { dtype: 'f16' });
    expect(() => E.add(a, a)).toThrow(/add: expected dtype f32 but got Tensor#\d+\(f16\[2,3\]/);
    expect(() => E.softmax(a)).toThrow(/softmax: expected dtype f32 but got Tensor#\d+\(f16/);
    // shape ops carry the dtype through; their 32-bit kernels refuse f16 storage
    expect(() => E.transpose(a, 0, 1)).toThrow(/permute: no f16 kernel for this op \(kernel \S+ got Tensor#\d+\(f16\[2,3\]/);
    a.dispose();
  });
});
