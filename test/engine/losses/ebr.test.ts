// EBR distillation (eq. 1): laws on the float64 reference (fast-check, ≥200 cases each), GPU against
// the reference on random shapes, gradcheck, bad inputs, memory.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as E from '../../../engine/index.ts';
import { ebrDistill } from '../../../engine/losses/index.ts';
import { ebrBackwardRef, ebrForwardRef, ebrRowsFromScores, ebrScoreGradRef, type EbrArgs } from '../../../engine/reference/losses/ebr.ts';
import { expectSteadyMemory, input, rng } from '../../util.ts';

const RUNS = 200;

// A score-level problem: S [B, M] with magnitudes up to 1e4, CVR in [0, 1].
const scores = fc
  .record({
    B: fc.integer({ min: 1, max: 6 }),
    N: fc.integer({ min: 0, max: 6 }),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
    mag: fc.constantFrom(0.1, 1, 30, 1e4),
    tau: fc.constantFrom(1, 0.05, 2),
    lambda: fc.double({ min: 0, max: 3, noNaN: true }),
  })
  .map(({ B, N, seed, mag, tau, lambda }) => {
    const r = rng(seed);
    const M = B + N;
    return {
      B,
      M,
      tau,
      lambda,
      mag,
      S: Float64Array.from({ length: B * M }, () => (2 * r.uniform() - 1) * mag),
      cvr: Float64Array.from({ length: B }, () => 0.01 + 0.99 * r.uniform()),
    };
  });

const embeddings = (maxB = 6, maxN = 6, maxD = 10) =>
  fc
    .record({
      B: fc.integer({ min: 1, max: maxB }),
      N: fc.integer({ min: 0, max: maxN }),
      D: fc.integer({ min: 1, max: maxD }),
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
      mag: fc.constantFrom(0.3, 1, 3),
      tau: fc.constantFrom(1, 0.5),
      lambda: fc.constantFrom(0, 0.5, 1),
    })
    .map(({ B, N, D, seed, mag, tau, lambda }) => {
      const r = rng(seed);
      const v = () => Math.fround((r.uniform() < 0.5 ? -1 : 1) * (0.1 + r.uniform()) * mag);
      return {
        q: Float64Array.from({ length: B * D }, v),
        p: Float64Array.from({ length: (B + N) * D }, v),
        cvr: Float64Array.from({ length: B }, () => Math.fround(0.01 + 0.99 * r.uniform())),
        B,
        M: B + N,
        D,
        temperature: tau,
        mseWeight: lambda,
      } as EbrArgs;
    });

const close = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));

describe('ebrDistill laws (float64 reference)', () => {
  it('the contrastive loss falls when a positive’s score rises (and is ≥ 0)', () => {
    fc.assert(
      fc.property(scores, fc.double({ min: 1e-3, max: 10, noNaN: true }), fc.nat(), (a, delta, pick) => {
        const i = pick % a.B;
        const l = ebrRowsFromScores(a.S, a.cvr, a.B, a.M, a.tau, 0);
        const up = Float64Array.from(a.S);
        up[i * a.M + i]! += delta;
        const l2 = ebrRowsFromScores(up, a.cvr, a.B, a.M, a.tau, 0);
        // strictly lower unless the positive already holds all the softmax mass in float64
        return l.every((x) => x >= 0) && l2[i]! <= l[i]! && (l[i]! < 1e-12 || l2[i]! < l[i]!);
      }),
      { numRuns: RUNS },
    );
  });

  it('a negative’s score rising raises the loss; the contrastive score gradient sums to zero per row', () => {
    fc.assert(
      fc.property(scores, fc.nat(), (a, pick) => {
        if (a.M < 2) return true;
        const i = pick % a.B;
        const j = (i + 1 + (pick % (a.M - 1))) % a.M; // any candidate but the positive
        const up = Float64Array.from(a.S);
        up[i * a.M + j]! += 1;
        const l = ebrRowsFromScores(a.S, a.cvr, a.B, a.M, a.tau, 0)[i]!;
        const l2 = ebrRowsFromScores(up, a.cvr, a.B, a.M, a.tau, 0)[i]!;
        const dS = ebrScoreGradRef(a.S, a.cvr, a.B, a.M, a.tau, 0);
        let s = 0;
        for (let c = 0; c < a.M; c++) s += dS[i * a.M + c]!;
        return l2 >= l && Math.abs(s) <= 1e-12 * (1 + a.cvr[i]! / a.tau);
      }),
      { numRuns: RUNS },
    );
  });

  it('is affine in mseWeight, linear in CVR for the contrastive part, and shift-invariant per row', () => {
    fc.assert(
      fc.property(scores, fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.double({ min: 0, max: 5, noNaN: true }), (a, c, k) => {
        const l = ebrRowsFromScores(a.S, a.cvr, a.B, a.M, a.tau, a.lambda);
        const l0 = ebrRowsFromScores(a.S, a.cvr, a.B, a.M, a.tau, 0);
        const lk = ebrRowsFromScores(a.S, Float64Array.from(a.cvr, (x) => x * k), a.B, a.M, a.tau, 0);
        const shifted = ebrRowsFromScores(Float64Array.from(a.S, (x) => x + c), a.cvr, a.B, a.M, a.tau, 0);
        for (let i = 0; i < a.B; i++) {
          const mse = (a.S[i * a.M + i]! - a.cvr[i]!) ** 2;
          if (!close(l[i]!, l0[i]! + a.lambda * mse, 1e-12)) return false;
          if (!close(lk[i]!, k * l0[i]!, 1e-9)) return false;
          if (Math.abs(shifted[i]! - l0[i]!) > 1e-9 * (1 + (Math.abs(c) + a.mag) / a.tau)) return false;
          if (!Number.isFinite(l[i]!)) return false;
        }
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  it('the batch loss is the mean of the per-query losses (cpu backend op), and gradients are finite', () => {
    fc.assert(
      fc.property(embeddings(), (a) => {
        const rows = ebrForwardRef(a);
        const s = rows.reduce((x, y) => x + y, 0);
        const { dq, dp } = ebrBackwardRef(a, 1, a.B);
        return E.scope(() => {
          const q = E.tensor(a.q, [a.B, a.D], { backend: 'cpu' });
          const p = E.tensor(a.p, [a.M, a.D], { backend: 'cpu' });
          const c = E.tensor(a.cvr, [a.B], { backend: 'cpu' });
          const o = { temperature: a.temperature, mseWeight: a.mseWeight };
          const mean = ebrDistill(q, p, c, o).cpu![0]!;
          const sum = ebrDistill(q, p, c, { ...o, reduction: 'sum' }).cpu![0]!;
          return close(mean, s / a.B, 1e-12) && close(sum, s, 1e-12) && [...dq, ...dp].every(Number.isFinite);
        });
      }),
      { numRuns: RUNS },
    );
  });
});

describe('ebrDistill on the GPU matches the reference', () => {
  it('random shapes, in-batch and sampled negatives, forward and both gradients', async () => {
    await fc.assert(
      fc.asyncProperty(embeddings(70, 90, 40), fc.boolean(), async (a, mean) => {
        const f = (q: E.Tensor, p: E.Tensor, c: E.Tensor) => ebrDistill(q, p, c, { temperature: a.temperature, mseWeight: a.mseWeight, reduction: mean ? 'mean' : 'sum' });
        // 1e-4: matmul scores, a log-sum-exp per row and a sum over queries
        await E.gpucheck(
          f,
          [
            { shape: [a.B, a.D], data: a.q },
            { shape: [a.M, a.D], data: a.p },
            { shape: [a.B], data: a.cvr, requiresGrad: false },
          ],
          { fwdTol: 1e-4, bwdTol: 1e-4 },
        );
      }),
      { numRuns: 25 },
    );
  });
});

describe('ebrDistill gradcheck, bad inputs, memory', () => {
  const r = rng(12);
  it('gradcheck in float64 for queries and products', () => {
    for (const [mseWeight, temperature] of [[1, 1], [0.3, 0.5]] as const) {
      const f = (q: E.Tensor, p: E.Tensor, c: E.Tensor) => ebrDistill(q, p, c, { mseWeight, temperature });
      expect(E.gradcheck(f, [input(r, [3, 4]), input(r, [5, 4]), { shape: [3], data: [0.2, 0.9, 0.5], requiresGrad: false }]).ok).toBe(true);
    }
  });

  it('rejects wrong shapes and options, naming the op and shapes', () => {
    E.scope(() => {
      const q = E.tensor(new Array(6).fill(1), [2, 3]);
      const c = E.tensor([0.5, 0.5], [2]);
      expect(() => ebrDistill(q, E.tensor(new Array(3).fill(1), [1, 3]), c)).toThrow(/ebrDistill: product embeddings must be \[B \+ N, D\] = \[≥ 2, 3\] \(positives first\) but got \[1, 3\] for queries \[2, 3\]/);
      expect(() => ebrDistill(q, E.tensor(new Array(8).fill(1), [2, 4]), c)).toThrow(/ebrDistill: product embeddings .* but got \[2, 4\]/);
      expect(() => ebrDistill(q, q, E.tensor([0.5], [1]))).toThrow(/ebrDistill: cvr must have shape \[2\] but got \[1\]/);
      expect(() => ebrDistill(q, q, c, { temperature: 0 })).toThrow(/ebrDistill: temperature 0 must be a positive number/);
      expect(() => ebrDistill(q, q, E.tensor([0, 1], [2], { dtype: 'i32' }))).toThrow(/ebrDistill: expected dtype f32/);
    });
  });

  it('forward + backward in a scope leaves liveBytes unchanged', async () => {
    const q = E.keep(E.randn([17, 9], { requiresGrad: true }));
    const p = E.keep(E.randn([40, 9], { requiresGrad: true }));
    const c = E.keep(E.rand([17]));
    await expectSteadyMemory(
      () => {
        E.scope(() => {
          E.backward(ebrDistill(q, p, c, { mseWeight: 0.5 }));
          E.zeroGrad([q, p]);
        });
        E.scope(() => {
          E.noGrad(() => ebrDistill(q, p, c));
        });
      },
      { warmup: false, repeats: 3 },
    );
    E.release(q, p, c);
  });
});
