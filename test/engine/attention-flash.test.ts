// The tiled (flash) attention kernels at the edges of their tiles: T and S not multiples of the
// 64-row workgroup or of the key/query tiles (BK = 32 at Dh 64, 56 at Dh 36, 64 at Dh 4), S over two
// tiles and over a subgroup of 32, causal and not, padding, GQA and an explicit KV offset; forward
// and the three input gradients on the GPU against the float64 reference (attention-cases.ts).
// Also: every variant gives the same output, and the variant switches reject what cannot run.
import { afterAll, describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import type { CheckInput } from '../../engine/index.ts';
import { gpuSync } from '../../engine/device.ts';
import { flashQueryShape, type FlashShape } from '../../kernels/attention/forward-flash.ts';
import { flashKeyShape } from '../../kernels/attention/backward-flash.ts';
import { checkOnGpu, fn, inputs, label, type Case } from './attention-cases.ts';

afterAll(() => E.setAttentionVariant(null));

describe('attention (flash kernels): tile edges against the float64 reference (rel err ≤ 1e-4)', () => {
  it('shapes: lanes per row, rows per workgroup, tile rows in 16 KiB', () => {
    const of = (s: FlashShape) => [s.R, s.rows, s.tile];
    expect([4, 36, 64, 256].map((Dh) => of(flashQueryShape(Dh)))).toEqual([[1, 128, 27], [1, 128, 19], [4, 32, 24], [4, 32, 7]]);
    expect([4, 36, 64, 256].map((Dh) => of(flashKeyShape(Dh)))).toEqual([[1, 128, 14], [1, 128, 11], [4, 32, 19], [4, 32, 6]]);
  });
  const cases: Case[] = [
    { B: 1, T: 37, S: 70, H: 2, Hkv: 1, Dh: 64, causal: true, lens: null }, // T, S off the tiles; S − T = 33
    { B: 2, T: 37, S: 70, H: 2, Hkv: 2, Dh: 64, causal: false, lens: [70, 45] },
    { B: 1, T: 70, S: 70, H: 3, Hkv: 1, Dh: 64, causal: true, lens: null }, // two query blocks, 3 key tiles
    { B: 2, T: 41, S: 97, H: 4, Hkv: 2, Dh: 36, causal: true, lens: [97, 60], offset: 20 }, // S > 1 tile of 56, queryOffset ≠ S − T
    { B: 1, T: 66, S: 130, H: 2, Hkv: 1, Dh: 4, causal: false, lens: [129] }, // S > 2 tiles of 64
    { B: 1, T: 5, S: 70, H: 6, Hkv: 2, Dh: 36, causal: true, lens: null, offset: -3 }, // first queries see nothing
  ];
  for (const c of cases) {
    it(label(c), async () => {
      E.setAttentionVariant('flash');
      await checkOnGpu(c);
    });
  }
});

describe('attention: every variant agrees', () => {
  it('rows, subgroup and subgroup-ds (where the adapter has them) and flash give the same output to float rounding', async () => {
    const c: Case = { B: 1, T: 45, S: 77, H: 2, Hkv: 1, Dh: 64, causal: true, lens: null, offset: 40 };
    const [qi, ki, vi] = inputs(c) as CheckInput[];
    const outs: ArrayLike<number>[] = [];
    for (const v of E.attentionVariants()) {
      E.setAttentionVariant(v);
      outs.push(await E.scopeAsync(async () => E.read(fn(c)(E.tensor(qi!.data, qi!.shape), E.tensor(ki!.data, ki!.shape), E.tensor(vi!.data, vi!.shape)))));
    }
    E.setAttentionVariant(null);
    expect(outs.length).toBeGreaterThanOrEqual(2);
    for (const o of outs.slice(1)) expect(E.relErr(o, outs[0]!)).toBeLessThan(1e-5);
  });
  it('rejects an unknown variant, naming the choices', () => {
    expect(() => E.setAttentionVariant('tiles' as E.AttentionVariant)).toThrow(/unknown attention variant "tiles" \(one of rows, subgroup, subgroup-ds, flash\)/);
  });
  it('the fixed rule keeps the CPU adapters\' family and takes flash on hardware GPUs', () => {
    const info = gpuSync().info;
    const storage = info.limits.maxStorageBuffersPerShaderStage ?? 8;
    const want = info.isSoftware ? (E.subgroupKernelsUsable(32) ? (storage >= 9 ? 'subgroup-ds' : 'subgroup') : 'rows') : 'flash';
    expect(E.chooseAttentionVariant()).toBe(want);
  });
});
