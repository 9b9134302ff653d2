import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { gradUnscale } from '../../kernels/loss-scale/unscale.ts';
import { unscaleRef } from '../../engine/reference/loss-scale.ts';
import { randData, rng } from '../util.ts';

const r = rng(67);
// not multiples of 4 (the poisoned slack of the last vec4 must not count) and more tensors than one launch binds
const sizes = [1, 7, 4099, 33, 9001, 2, 130, 5, 17, 1029, 3];
const SPECIALS = [Infinity, -Infinity, NaN];

/** Parameters (random, or `init`) with gradients `gs` (kept; dispose with drop). */
function withGrads(gs: Float64Array[], backend: E.Backend = 'gpu', init?: Float64Array[]): E.Tensor[] {
  return gs.map((g, i) => {
    const p = E.keep(E.tensor(init?.[i] ?? randData(r, g.length), [g.length], { backend, requiresGrad: true }));
    p.grad = E.keep(E.tensor(g, [g.length], { backend }));
    return p;
  });
}
function drop(ps: E.Tensor[]): void {
  E.zeroGrad(ps);
  for (const p of ps) p.dispose();
}
const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));
const bits = async (t: E.Tensor) => Array.from(new Uint32Array((await E.read(t) as Float32Array).buffer));

describe('unscaleGrads (overflow check of loss scaling)', () => {
  it('compiles', async () => {
    for (const [k, w] of [[1, true], [8, true], [1, false], [8, false]] as const) await E.precompile(gradUnscale(k, w));
  });
  for (const backend of ['gpu', 'cpu'] as const) {
    it(`${backend}: finite gradients: flag 0, g·(1/S) as float64`, async () => {
      const gs = sizes.map((n) => f32(randData(r, n, 0.1, 3e4)));
      const ps = withGrads(gs, backend);
      const want = gs.map((g) => Float64Array.from(g));
      expect(unscaleRef(want, 2 ** -13)).toBe(false);
      const flag = E.unscaleGrads(ps, 2 ** -13);
      expect((await E.read(flag))[0]).toBe(0);
      flag.dispose();
      // 1/S is a power of two: the unscale is exact
      for (let i = 0; i < ps.length; i++) expect(E.relErr(await E.read(ps[i]!.grad!), want[i]!)).toBe(0);
      drop(ps);
    });
    for (const special of SPECIALS) {
      for (const [where, t, at] of [['first element of the first', 0, 0], ['last element of an odd-sized', 8, -1], ['middle of a later-launch', 9, 500]] as const) {
        it(`${backend}: ${special} at the ${where} gradient raises the flag; the others are still unscaled`, async () => {
          const gs = sizes.map((n) => f32(randData(r, n)));
          const g = gs[t]!;
          g[at < 0 ? g.length + at : at] = special;
          const want = gs.map((x) => Float64Array.from(x));
          expect(unscaleRef(want, 0.25)).toBe(true);
          const ps = withGrads(gs, backend);
          const flag = E.unscaleGrads(ps, 0.25);
          expect((await E.read(flag))[0]).toBe(1);
          flag.dispose();
          for (let i = 0; i < ps.length; i++) {
            const got = await E.read(ps[i]!.grad!);
            for (let j = 0; j < got.length; j++) {
              if (Number.isNaN(want[i]![j]!)) expect(got[j]).toBeNaN();
              else expect(got[j]).toBe(want[i]![j]);
            }
          }
          drop(ps);
        });
      }
    }
  }
  it('the check without write leaves the gradients bit for bit', async () => {
    const gs = sizes.map((n) => randData(r, n));
    gs[3]![5] = NaN;
    const ps = withGrads(gs);
    const before = await Promise.all(ps.map((p) => bits(p.grad!)));
    const flag = E.unscaleGrads(ps, 0.5, false);
    expect((await E.read(flag))[0]).toBe(1);
    flag.dispose();
    for (let i = 0; i < ps.length; i++) expect(await bits(ps[i]!.grad!)).toEqual(before[i]);
    drop(ps);
  });
  it('parameters without gradients are skipped; an f16 gradient and a bad 1/S are refused', () => {
    const p = E.keep(E.tensor([1, 2], [2], { requiresGrad: true }));
    const flag = E.unscaleGrads([p], 0.5);
    flag.dispose();
    p.grad = E.keep(E.toF16(E.tensor([1, 2], [2])));
    expect(() => E.unscaleGrads([p], 0.5)).toThrow(/unscaleGrads: gradient .* is not f32/);
    expect(() => E.unscaleGrads([p], 0)).toThrow(/1\/S = 0 must be a finite number > 0/);
    drop([p]);
  });
});

const opts: E.LossScaleOpts = { init: 2 ** 10, growthInterval: 3, min: 2 ** 4, max: 2 ** 12 };

describe('the loss scaler policy (laws)', () => {
  it('the scale never leaves [min, max] and stays a power of two; skipped counts the overflows', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 60 }), (flags) => {
        let s = E.lossScaleInit(opts);
        for (const f of flags) {
          s = E.lossScaleNext(s, f, opts);
          expect(s.scale).toBeGreaterThanOrEqual(opts.min);
          expect(s.scale).toBeLessThanOrEqual(opts.max);
          expect(2 ** Math.round(Math.log2(s.scale))).toBe(s.scale);
        }
        expect(s.skipped).toBe(flags.filter((f) => f).length);
      }),
    );
  });
  it('an overflow halves the scale (down to min) and restarts the count; growthInterval clean steps double it (up to max)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 12 }), fc.integer({ min: 0, max: 2 }), fc.boolean(), (lg, good, overflow) => {
        const s: E.LossScale = { scale: 2 ** lg, goodSteps: good, skipped: 5 };
        const n = E.lossScaleNext(s, overflow, opts);
        if (overflow) expect(n).toEqual({ scale: Math.max(opts.min, s.scale / 2), goodSteps: 0, skipped: 6 });
        else if (good + 1 === opts.growthInterval) expect(n).toEqual({ scale: Math.min(opts.max, s.scale * 2), goodSteps: 0, skipped: 5 });
        else expect(n).toEqual({ scale: s.scale, goodSteps: good + 1, skipped: 5 });
      }),
    );
  });
  it('the state is checked when read back; bad options are refused', () => {
    expect(E.lossScaleFrom({ scale: 64, goodSteps: 2, skipped: 1 }, 'x.ckpt', opts)).toEqual({ scale: 64, goodSteps: 2, skipped: 1 });
    for (const bad of [null, { scale: 48, goodSteps: 0, skipped: 0 }, { scale: 2 ** 13, goodSteps: 0, skipped: 0 }, { scale: 64, goodSteps: 3, skipped: 0 }, { scale: 64, goodSteps: 0 }]) {
      expect(() => E.lossScaleFrom(bad, 'x.ckpt', opts)).toThrow(/x\.ckpt: loss scale .* is not a scaler state/);
    }
    expect(() => E.lossScaleInit({ ...opts, init: 1000 })).toThrow(/init 1000 is not a power of two/);
    expect(() => E.lossScaleInit({ ...opts, init: 2 ** 13 })).toThrow(/not within \[min/);
    expect(() => E.lossScaleInit({ ...opts, growthInterval: 0 })).toThrow(/growthInterval 0/);
  });
});

describe('scaledStep: AdamW behind the scaler', () => {
  // AdamW on parameters with gradients S·g; returns parameters, moments and the step count afterwards
  async function step(g: Float64Array[], init: Float64Array[], scale: E.LossScale) {
    const ps = withGrads(g.map((x) => x.map((v) => v * scale.scale)), 'gpu', init);
    const opt = E.adamw(ps, { lr: 1e-2, weightDecay: 0.01 });
    const ps0 = await Promise.all(ps.map((p) => bits(p)));
    const res = await E.scaledStep(ps, scale, () => {
      E.clipGradNorm(ps, 1).dispose();
      opt.step();
    }, opts);
    const out = {
      res,
      before: ps0,
      params: await Promise.all(ps.map((p) => bits(p))),
      m: await Promise.all(opt.state().m.map((t) => bits(t))),
      v: await Promise.all(opt.state().v.map((t) => bits(t))),
      t: opt.state().step,
    };
    opt.dispose();
    drop(ps);
    return out;
  }
  it('a skipped step leaves parameters, moments and the step count unchanged; a clean one equals the unscaled step bit for bit', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 6 }),
        fc.option(fc.tuple(fc.nat(), fc.nat(), fc.constantFrom(...SPECIALS)), { nil: null }),
        fc.integer({ min: 4, max: 12 }),
        async (ns, inject, lg) => {
          const g = ns.map((n) => f32(randData(r, n, 1e-3, 2)));
          if (inject) {
            const [t, i, v] = inject;
            g[t % g.length]![i % g[t % g.length]!.length] = v;
          }
          const s: E.LossScale = { scale: 2 ** lg, goodSteps: 1, skipped: 0 };
          const init = ns.map((n) => randData(r, n));
          const got = await step(g, init, s);
          expect(got.res.overflow).toBe(inject !== null);
          expect(got.res.scale).toEqual(E.lossScaleNext(s, inject !== null, opts));
          if (inject) {
            expect(got.params).toEqual(got.before);
            expect(got.t).toBe(0);
            const zero = (n: number) => Array.from({ length: Math.ceil(n) }, () => 0);
            expect(got.m.map((m, i) => m.slice(0, ns[i]))).toEqual(ns.map(zero));
            expect(got.v.map((v, i) => v.slice(0, ns[i]))).toEqual(ns.map(zero));
          } else {
            const plain = await step(g, init, { scale: 1, goodSteps: 0, skipped: 0 });
            expect(got.t).toBe(1);
            expect(got.params).toEqual(plain.params);
            expect(got.m).toEqual(plain.m);
            expect(got.v).toEqual(plain.v);
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
