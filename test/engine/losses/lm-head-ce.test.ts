// The fused LM head + cross-entropy: GPU against the float64 composition (lmCrossEntropy of
// linear(h, W)) on random shapes that are not multiples of the tiles, with the head's product forced
// onto each subgroup-broadcast tile (the fused path) and onto the register tile (the composition);
// the law "fused = composed" on the GPU (fast-check); which kernels ran (the epilogue, the
// input-gradient product that loads the softmax gradient under a frozen head, the written gradient
// otherwise); gradcheck; bad inputs; memory.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as E from '../../../engine/index.ts';
import { lmCrossEntropy, lmHeadCrossEntropy } from '../../../engine/losses/index.ts';
import { gpuSync } from '../../../engine/device.ts';
import { onLaunch } from '../../../engine/runtime.ts';
import { expectSteadyMemory, input, randData, rng } from '../../util.ts';

const IGN = -100;
/** The adapter runs the subgroup-broadcast kernels, so the fused path exists here. */
const fusable = () => gpuSync().info.subgroupSize !== null && gpuSync().info.subgroupSize! >= 4;

/** Kernel names launched while `f` runs. */
async function launched<T>(f: () => Promise<T>): Promise<{ out: T; names: string[] }> {
  const names: string[] = [];
  onLaunch((l) => names.push(l.kernel.name));
  try {
    return { out: await f(), names };
  } finally {
    onLaunch(null);
  }
}

/** A random problem: hidden rows [N, D], head [V, D], targets with ignored tokens, weights. */
function problem(seed: number, N: number, V: number, D: number, pIgnore = 0.25, mag = 1) {
  const r = rng(seed);
  return {
    h: { shape: [N, D], data: randData(r, N * D, 0.05, mag) },
    W: { shape: [V, D], data: randData(r, V * D, 0.05, mag) },
    t: { shape: [N], data: Array.from({ length: N }, () => (r.uniform() < pIgnore ? IGN : r.int(V))), dtype: 'i32' as const },
    w: { shape: [N], data: Array.from({ length: N }, () => 0.1 + r.uniform()), requiresGrad: false },
  };
}

describe('lmHeadCrossEntropy on the GPU matches the float64 composition', () => {
  const cases: [string, number, number, number][] = [
    ['a narrow head (D 12), V % 4 = 0', 44, 260, 12],
    ['odd rows, V % 4 = 0', 37, 132, 20],
    ['V % 4 ≠ 0 (scalar stores), V past one column tile', 45, 101, 16],
    ['many column tiles, rows past one row tile', 70, 1003, 36],
    ['one row', 1, 77, 8],
    ['D % 4 ≠ 0: the composition runs', 19, 90, 18],
  ];
  for (const variant of ['broadcast', 'broadcast32', 'register'] as const) {
    for (const [what, N, V, D] of cases) {
      it(`${variant}: ${what} (N ${N}, V ${V}, D ${D}), weights, ignored tokens, both reductions, head trained and frozen`, async () => {
        E.setMatmulVariant(variant);
        try {
          for (const [reduction, headGrad] of [['mean', true], ['sum', true], ['mean', false]] as const) {
            const p = problem(N * 1000 + V + D + (reduction === 'sum' ? 7 : 0) + (headGrad ? 0 : 3), N, V, D);
            const f = (h: E.Tensor, W: E.Tensor, t: E.Tensor, w: E.Tensor) => lmHeadCrossEntropy(h, W, t, { weights: w, reduction });
            const { names } = await launched(() => E.gpucheck(f, [p.h, { ...p.W, requiresGrad: headGrad }, p.t, p.w], { fwdTol: 1e-5, bwdTol: 1e-5 }));
            const fused = variant !== 'register' && D % 4 === 0 && fusable();
            // a frozen head's input-gradient product loads the softmax gradient (K = V, so V % 4 = 0)
            const loads = fused && !headGrad && V % 4 === 0;
            expect(names.some((n) => n.includes('_lse')), names.join(' ')).toBe(fused);
            expect(names.some((n) => n.startsWith('lm_ce_fwd'))).toBe(!fused);
            expect(names.some((n) => n.includes('_lmgrad')), names.join(' ')).toBe(loads);
            expect(names.some((n) => n.startsWith('lm_ce_bwd'))).toBe(!loads);
          }
        } finally {
          E.setMatmulVariant(null);
        }
      });
    }
  }

  it('large logits (|z| up to ~1e3): the tile maxima keep the log-sum-exp finite and exact', async () => {
    E.setMatmulVariant('broadcast32');
    try {
      const p = problem(5, 29, 517, 12, 0.2, 9);
      await E.gpucheck((h, W, t) => lmHeadCrossEntropy(h, W, t), [p.h, p.W, p.t], { fwdTol: 1e-5, bwdTol: 1e-5 });
    } finally {
      E.setMatmulVariant(null);
    }
  });

  it('rows whose maxima fall inside and outside the epilogue\'s unshifted range [−40, 60]: the tiles\' partial sums merge exactly', async () => {
    const r = rng(31);
    const [N, V, D] = [45, 203, 8];
    // z_rc ≈ s_r·u_c with u_c ∈ [0.5, 1]: the row maxima follow s_r; rows 0–15 all inside the range (a tile
    // without shifts), the rest a mix of rows inside and outside it (tiles with shifts)
    const sRow = Array.from({ length: N }, (_, i) => (i < 16 ? 20 + 25 * r.uniform() : [-100, -60, 20, 45, 75, 130][i % 6]!));
    const h = { shape: [N, D], data: Array.from({ length: N * D }, (_, k) => (k % D === 0 ? sRow[Math.floor(k / D)]! : 0.3 * (2 * r.uniform() - 1))) };
    const W = { shape: [V, D], data: Array.from({ length: V * D }, (_, k) => (k % D === 0 ? 0.5 + 0.5 * r.uniform() : 0.3 * (2 * r.uniform() - 1))) };
    const t = { shape: [N], data: Array.from({ length: N }, (_, i) => (i % 7 === 3 ? IGN : r.int(V))), dtype: 'i32' as const };
    for (const variant of ['broadcast', 'broadcast32'] as const) {
      E.setMatmulVariant(variant);
      try {
        await E.gpucheck((a, b, c) => lmHeadCrossEntropy(a, b, c), [h, W, t], { fwdTol: 1e-5, bwdTol: 1e-5 });
      } finally {
        E.setMatmulVariant(null);
      }
    }
  });

  it('a frozen head (LoRA, tied embedding): only h gets a gradient', async () => {
    const p = problem(9, 33, 250, 24);
    await E.gpucheck((h, W, t) => lmHeadCrossEntropy(h, W, t), [p.h, { ...p.W, requiresGrad: false }, p.t], { fwdTol: 1e-5, bwdTol: 1e-5 });
  });

  it('law: fused = composed on the GPU, for any shape, ignore pattern and reduction (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          // multiples of 4 half the time: where the input-gradient product loads the softmax gradient
          N: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 10 }).map((n) => 4 * n)),
          V: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 75 }).map((v) => 4 * v)),
          D4: fc.integer({ min: 1, max: 10 }),
          seed: fc.integer({ min: 1, max: 2 ** 30 }),
          pIgnore: fc.constantFrom(0, 0.3, 1),
          mean: fc.boolean(),
          R32: fc.boolean(),
          headGrad: fc.boolean(),
        }),
        async ({ N, V, D4, seed, pIgnore, mean, R32, headGrad }) => {
          E.setMatmulVariant(R32 ? 'broadcast32' : 'broadcast');
          try {
            const p = problem(seed, N, V, 4 * D4, pIgnore);
            const opts = { weights: undefined, reduction: mean ? ('mean' as const) : ('sum' as const) };
            const run = async (fused: boolean) =>
              E.scopeAsync(async () => {
                const h = E.tensor(p.h.data, p.h.shape, { requiresGrad: true });
                const W = E.tensor(p.W.data, p.W.shape, { requiresGrad: headGrad });
                const t = E.tensor(p.t.data, p.t.shape, { dtype: 'i32' });
                const l = fused ? lmHeadCrossEntropy(h, W, t, opts) : lmCrossEntropy(E.linear(h, W), t, opts);
                E.backward(l);
                const out = [Float64Array.of(await E.item(l)), Float64Array.from(await E.read(h.grad!))];
                if (headGrad) out.push(Float64Array.from(await E.read(W.grad!)));
                E.zeroGrad([h, W]);
                return out;
              });
            const [a, b] = [await run(true), await run(false)];
            return a.every((x, i) => E.relErr(x, b[i]!) < 1e-5);
          } finally {
            E.setMatmulVariant(null);
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});

describe('lmHeadCrossEntropy gradcheck, bad inputs, memory', () => {
  const r = rng(21);
  it('gradcheck in float64 (h and W, ignored tokens, weights, both reductions)', () => {
    for (const reduction of ['mean', 'sum'] as const) {
      const f = (h: E.Tensor, W: E.Tensor, t: E.Tensor, w: E.Tensor) => lmHeadCrossEntropy(h, W, t, { weights: w, reduction });
      const res = E.gradcheck(f, [input(r, [4, 5]), input(r, [7, 5]), { shape: [4], data: [6, IGN, 0, 3], dtype: 'i32' }, { shape: [4], data: [0.1, 1, 1, 0.5], requiresGrad: false }]);
      expect(res.ok, res.worst).toBe(true);
    }
  });

  it('rejects mismatched shapes and dtypes, naming the op', () => {
    E.scope(() => {
      const h = E.tensor(randData(r, 12), [3, 4]);
      const W = E.tensor(randData(r, 20), [5, 4]);
      expect(() => lmHeadCrossEntropy(h, E.tensor(randData(r, 15), [5, 3]), E.tensor([0, 1, 2], [3], { dtype: 'i32' }))).toThrow(/lmHeadCrossEntropy: h must be \[N, D\] and W \[V, D\].*\[3, 4\].*\[5, 3\]/);
      expect(() => lmHeadCrossEntropy(h, W, E.tensor([0, 1], [2], { dtype: 'i32' }))).toThrow(/lmHeadCrossEntropy: targets must have shape \[3\] but got \[2\]/);
      expect(() => lmHeadCrossEntropy(h, W, E.tensor([0, 1, 2], [3]))).toThrow(/lmHeadCrossEntropy: expected dtype i32/);
    });
  });

  it('forward + backward in a scope, and a forward without a tape, leave liveBytes unchanged', async () => {
    E.setMatmulVariant('broadcast');
    try {
      const h = E.keep(E.randn([21, 16], { requiresGrad: true }));
      const W = E.keep(E.randn([130, 16], { requiresGrad: true }));
      const t = E.keep(E.tensor(Array.from({ length: 21 }, (_, i) => (i % 4 === 0 ? IGN : i)), [21], { dtype: 'i32' }));
      await expectSteadyMemory(
        () => {
          E.scope(() => {
            E.backward(lmHeadCrossEntropy(h, W, t));
            E.zeroGrad([h, W]);
          });
          E.scope(() => {
            E.noGrad(() => lmHeadCrossEntropy(h, W, t));
          });
        },
        { warmup: true, repeats: 3 },
      );
      E.release(h, W, t);
    } finally {
      E.setMatmulVariant(null);
    }
  });

  it('the tape lists the [N, V] logits the fused op holds for its backward (savedTensors: what a step must hold)', () => {
    for (const variant of ['broadcast', 'register'] as const) {
      E.setMatmulVariant(variant);
      try {
        E.scope(() => {
          const h = E.randn([21, 16], { requiresGrad: true });
          const W = E.randn([130, 16], { requiresGrad: true });
          const t = E.tensor(Array.from({ length: 21 }, (_, i) => i), [21], { dtype: 'i32' });
          const loss = lmHeadCrossEntropy(h, W, t);
          // fused: the op's own record holds them; the composition: lmCrossEntropy's input
          expect(loss.node?.op).toBe(variant === 'broadcast' && fusable() ? 'lmHeadCrossEntropy' : 'lmCrossEntropy');
          const big = E.savedTensors(loss).filter((x) => x.shape.join(',') === '21,130');
          expect(big.length, variant).toBe(1);
        });
      } finally {
        E.setMatmulVariant(null);
      }
    }
  });
});
