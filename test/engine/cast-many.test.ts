// toF16Many (engine/ops/cast.ts): the bits of toF16 on every tensor, over more tensors than one launch
// binds (odd sizes, a single element, an empty tensor, values past the f16 range and subnormals), in
// ⌈n/k⌉ launches; the float64 backend rounds the same way.
import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { slotsPerLaunch } from '../../engine/optim/group.ts';
import { onLaunch } from '../../engine/runtime.ts';
import { randData, rng } from '../util.ts';

describe('toF16Many', () => {
  const r = rng(90210);
  const sizes = [1, 7, 64, 1001, 0, 33, 2, 4097, 5, 3, 129, 12];
  const data = sizes.map((n, i) => {
    const d = randData(r, n, 1e-6, 3e4 * (i + 1)); // up to 3.6e5: past 65504 → ±Inf
    if (n > 3) d[3] = 3e-7; // an f16 subnormal
    return d;
  });
  it('gives toF16\'s bits for each tensor, in ⌈n/k⌉ launches', async () => {
    const xs = data.map((d, i) => E.tensor(d, [sizes[i]!]));
    const want = xs.map((x) => E.toF16(x));
    const ops: string[] = [];
    onLaunch((l) => void (l.op !== 'poison' && ops.push(l.op)));
    const got = E.toF16Many(xs);
    onLaunch(null);
    const k = slotsPerLaunch(2, 0);
    expect(ops.length).toBe(Math.ceil(sizes.filter((n) => n > 0).length / k));
    expect(ops.every((o) => o === 'toF16Many')).toBe(true);
    for (let i = 0; i < xs.length; i++) {
      expect(got[i]!.dtype).toBe('f16');
      expect(got[i]!.shape).toEqual([sizes[i]]);
      expect(Array.from(await E.read(got[i]!))).toEqual(Array.from(await E.read(want[i]!)));
    }
    // the overflow path was exercised: ±Inf where |x| > 65504 (tensor 7 reaches 2.4e5)
    expect((await E.read(got[7]!)).some((v) => !Number.isFinite(v))).toBe(true);
    for (const t of [...xs, ...want, ...got]) t.dispose();
  });
  it('on the float64 backend rounds as toF16 does, and names a bad input', async () => {
    const xs = data.slice(0, 3).map((d, i) => E.tensor(d, [sizes[i]!], { backend: 'cpu' }));
    const got = E.toF16Many(xs);
    for (let i = 0; i < 3; i++) expect(Array.from(got[i]!.cpu!)).toEqual(Array.from(E.toF16(xs[i]!).cpu!));
    const h = E.toF16(E.tensor(data[2]!, [64]));
    expect(() => E.toF16Many([h])).toThrow(/toF16Many/);
  });
});
