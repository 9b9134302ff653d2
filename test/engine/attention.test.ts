import { afterAll, describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { gradcheck, type CheckInput } from '../../engine/index.ts';
import { attentionForwardRows } from '../../kernels/attention/forward-rows.ts';
import { attentionBackwardDkv, attentionBackwardDq, attentionBackwardPrep } from '../../kernels/attention/backward-rows.ts';
import { attentionBackwardDkvSubgroup, attentionBackwardDqSubgroup } from '../../kernels/attention/backward-subgroup.ts';
import { attentionBackwardDqScores } from '../../kernels/attention/backward-scores.ts';
import { ATTN_WG } from '../../kernels/attention/common.ts';
import { attentionForwardSubgroup } from '../../kernels/attention/forward-subgroup.ts';
import { attentionForwardFlash } from '../../kernels/attention/forward-flash.ts';
import { attentionBackwardDkvFlash, attentionBackwardDqFlash } from '../../kernels/attention/backward-flash.ts';
import { gpuSync } from '../../engine/device.ts';
import { expectSteadyMemory } from '../util.ts';
import { onLaunch } from '../../engine/runtime.ts';
import { checkOnGpu, fn, inputs, label, randomCase, type Case } from './attention-cases.ts';

// every kernel variant the adapter has (subgroup needs a fixed subgroup size; flash: attention-flash.test.ts adds tile edge cases)
await E.initEngine();
const variants = E.attentionVariants();
afterAll(() => E.setAttentionVariant(null));

for (const variant of variants)
describe(`attention (${variant} kernels): GPU against the float64 naive reference (rel err ≤ 1e-4; head dim 128: attention-wide-heads.test.ts)`, () => {
  const cases: Case[] = [
    { B: 1, T: 1, S: 1, H: 1, Hkv: 1, Dh: 32, causal: true, lens: null },
    { B: 2, T: 33, S: 33, H: 4, Hkv: 2, Dh: 64, causal: true, lens: [33, 17] }, // right-padded batch
    { B: 1, T: 5, S: 70, H: 2, Hkv: 1, Dh: 32, causal: false, lens: null },
    { B: 2, T: 1, S: 37, H: 6, Hkv: 2, Dh: 64, causal: true, lens: [37, 20] }, // decode step (offset S − 1)
    { B: 1, T: 4, S: 30, H: 2, Hkv: 2, Dh: 32, causal: true, lens: null, offset: 9 }, // explicit KV offset
    { B: 3, T: 45, S: 45, H: 4, Hkv: 2, Dh: 16, causal: true, lens: [45, 19, 33] }, // the tiny preset's heads, padded
    { B: 1, T: 9, S: 21, H: 2, Hkv: 1, Dh: 4, causal: true, lens: null }, // key blocks wider than a subgroup
  ];
  for (const Dh of [16, 32, 64, 16, 32, 64]) cases.push(randomCase(Dh));
  for (const c of cases) {
    it(label(c), async () => {
      E.setAttentionVariant(variant);
      await checkOnGpu(c);
    });
  }
});

describe('attention: float64 gradcheck of the reference path', () => {
  const cases: Case[] = [
    { B: 1, T: 3, S: 3, H: 2, Hkv: 1, Dh: 4, causal: true, lens: null },
    { B: 2, T: 2, S: 4, H: 2, Hkv: 2, Dh: 4, causal: false, lens: [3, 1] },
    { B: 1, T: 1, S: 3, H: 2, Hkv: 1, Dh: 8, causal: true, lens: [2] },
    { B: 1, T: 3, S: 2, H: 1, Hkv: 1, Dh: 4, causal: true, lens: null, offset: -1 }, // first query sees nothing
  ];
  for (const c of cases) {
    it(label(c), () => {
      expect(gradcheck(fn(c), inputs(c)).ok).toBe(true);
    });
  }
});

describe.skipIf(!variants.includes('subgroup-ds'))('attention (subgroup-ds): dQ from the written dS, and its fallback over the dS budget', () => {
  const c: Case = { B: 2, T: 29, S: 43, H: 4, Hkv: 2, Dh: 32, causal: true, lens: [43, 26], offset: 14 }; // S not a multiple of 4
  afterAll(() => E.setAttentionScoresMaxBytes(null));
  for (const budget of [null, 0] as const) {
    it(budget === null ? 'within the budget the backward reads dS (kernel attention_bwd_dq_scores)' : 'with a budget of 0 the backward recomputes (kernel attention_bwd_dq_subgroup)', async () => {
      E.setAttentionVariant('subgroup-ds');
      E.setAttentionScoresMaxBytes(budget);
      const ran = new Set<string>();
      onLaunch((r) => ran.add(r.kernel.name.replace(/_d\d+_sg\d+.*$/, '')));
      try {
        await checkOnGpu(c);
      } finally {
        onLaunch(null);
      }
      expect(ran.has('attention_bwd_dq_scores')).toBe(budget === null);
      expect(ran.has('attention_bwd_dq_subgroup')).toBe(budget !== null);
    });
  }
  it('rejects a budget that is not a byte count', () => {
    expect(() => E.setAttentionScoresMaxBytes(-1)).toThrow(/setAttentionScoresMaxBytes: -1 is not a byte count/);
  });
});

describe('attention: masking edge cases', () => {
  it('a query that sees no key gives zeros and zero gradient, never NaN (GPU)', async () => {
    const c: Case = { B: 2, T: 3, S: 5, H: 2, Hkv: 1, Dh: 32, causal: true, lens: [0, 5], offset: -1 };
    await E.scopeAsync(async () => {
      const [qi, ki, vi, li] = inputs(c) as [CheckInput, CheckInput, CheckInput, CheckInput];
      const q = E.tensor(qi.data, qi.shape, { requiresGrad: true });
      const k = E.tensor(ki.data, ki.shape, { requiresGrad: true });
      const v = E.tensor(vi.data, vi.shape, { requiresGrad: true });
      const lens = E.tensor(li.data, li.shape, { dtype: 'i32' });
      const o = fn(c)(q, k, v, lens);
      E.backward(E.sumAll(E.mul(o, o)));
      const O = await E.read(o);
      const dq = await E.read(q.grad!);
      const dk = await E.read(k.grad!);
      const per = 3 * 2 * 32; // one batch row
      for (const x of [O, dq, dk]) expect(x.every(Number.isFinite)).toBe(true);
      expect(O.slice(0, per).every((x) => x === 0)).toBe(true); // batch 0: no valid key
      expect(dq.slice(0, per).every((x) => x === 0)).toBe(true);
      expect(dk.slice(0, 5 * 32).every((x) => x === 0)).toBe(true);
      // batch 1, query 0 with offset −1 sees no key either
      expect(O.slice(per, per + 2 * 32).every((x) => x === 0)).toBe(true);
      expect(O.slice(per + 2 * 32).some((x) => x !== 0)).toBe(true);
      for (const t of [q, k, v]) E.unkeep(t.grad!);
    });
  });
  it('padded keys do not change the output of the valid part', async () => {
    // keys beyond the length are replaced by garbage: the output must not move
    const [qi, ki, vi] = inputs({ B: 1, T: 6, S: 6, H: 2, Hkv: 1, Dh: 32, causal: false, lens: null }) as CheckInput[];
    const k2 = Float64Array.from(ki!.data);
    const v2 = Float64Array.from(vi!.data);
    for (let i = 4 * 32; i < k2.length; i++) {
      k2[i] = 50;
      v2[i] = -70;
    }
    const run = async (kd: ArrayLike<number>, vd: ArrayLike<number>) =>
      E.scopeAsync(async () => {
        const lens = E.tensor([4], [1], { dtype: 'i32' });
        return E.read(E.attention(E.tensor(qi!.data, qi!.shape), E.tensor(kd, ki!.shape), E.tensor(vd, vi!.shape), { causal: false, keyLengths: lens }));
      });
    const a = await run(ki!.data, vi!.data);
    const b = await run(k2, v2);
    expect(E.relErr(b, a)).toBe(0);
  });
});

describe('attention: kernels, errors, memory', () => {
  it('every kernel compiles for Dh 16, 32, 64, 128', async () => {
    const SG = gpuSync().info.subgroupSize;
    for (const Dh of [16, 32, 64, 128]) {
      for (const k of [attentionForwardRows(Dh), attentionBackwardPrep(Dh), attentionBackwardDq(Dh), attentionBackwardDkv(Dh)]) await E.precompile(k);
      for (const k of [attentionForwardFlash(Dh), attentionBackwardDqFlash(Dh), attentionBackwardDkvFlash(Dh)]) await E.precompile(k);
      if (SG !== null && E.subgroupKernelsUsable(ATTN_WG)) {
        for (const k of [attentionForwardSubgroup(Dh, SG), attentionBackwardDqSubgroup(Dh, SG), attentionBackwardDkvSubgroup(Dh, SG, false), attentionBackwardDkvSubgroup(Dh, SG, true), attentionBackwardDqScores(Dh, SG)]) await E.precompile(k);
      }
    }
  });
  it('rejects bad shapes and dtypes, naming the op and shapes', () => {
    E.scope(() => {
      const q = E.zeros([1, 3, 4, 8]);
      const k = E.zeros([1, 5, 3, 8]);
      const v = E.zeros([1, 5, 3, 8]);
      const k2 = E.zeros([1, 5, 2, 8]);
      const v2 = E.zeros([1, 5, 2, 8]);
      const k6 = E.zeros([1, 5, 2, 6]);
      const lensF = E.zeros([1]);
      const lens2 = E.tensor([1, 2], [2], { dtype: 'i32' });
      expect(() => E.attention(q, k, v)).toThrow(/attention: query heads 4 must be a multiple of kv heads 3 \(q \[1, 3, 4, 8\], k \[1, 5, 3, 8\], v \[1, 5, 3, 8\]\)/);
      expect(() => E.attention(q, k2, v)).toThrow(/attention: k and v shapes differ/);
      expect(() => E.attention(q, k6, k6)).toThrow(/attention: head dims differ: 8 vs 6/);
      expect(() => E.attention(q, k2, v2, { keyLengths: lensF })).toThrow(/attention: expected dtype i32/);
      expect(() => E.attention(q, k2, v2, { keyLengths: lens2 })).toThrow(/attention: keyLengths must be \[1\]/);
      expect(() => E.attention(E.zeros([3, 4, 8]), k2, v2)).toThrow(/attention: q must be \[B, T, H, Dh\]/);
    });
  });
  it('forward + backward in a scope leaves live bytes unchanged', async () => {
    const q = E.keep(E.randn([2, 5, 4, 32], { seed: 1, requiresGrad: true }));
    const k = E.keep(E.randn([2, 7, 2, 32], { seed: 2, requiresGrad: true }));
    const v = E.keep(E.randn([2, 7, 2, 32], { seed: 3, requiresGrad: true }));
    const lens = E.keep(E.tensor([7, 3], [2], { dtype: 'i32' }));
    const step = () =>
      E.scope(() => {
        E.zeroGrad([q, k, v]);
        E.backward(E.sumAll(E.attention(q, k, v, { keyLengths: lens })));
      });
    await expectSteadyMemory(step, { repeats: 2 });
    E.zeroGrad([q, k, v]);
    for (const t of [q, k, v, lens]) t.dispose();
  });
});
