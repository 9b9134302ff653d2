// KD binary CE on σ(s·cos) (eq. 4): laws on the float64 reference (fast-check, ≥200 cases each), GPU
// against the reference on random shapes, gradcheck, bad inputs, memory.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as E from '../../../engine/index.ts';
import { kdBce } from '../../../engine/losses/index.ts';
import { bceWithLogit, kdBceBackwardRef, kdBceForwardRef, kdRow, type KdBceArgs } from '../../../engine/reference/losses/kd-bce.ts';
import { expectSteadyMemory, input, rng } from '../../util.ts';

const RUNS = 200;

const problem = (maxB = 6, maxD = 16) =>
  fc
    .record({
      B: fc.integer({ min: 1, max: maxB }),
      D: fc.integer({ min: 1, max: maxD }),
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
      mag: fc.constantFrom(1e-3, 1, 100, 1e4),
      scale: fc.constantFrom(8, 1, 30, 1e4),
    })
    .map(({ B, D, seed, mag, scale }) => {
      const r = rng(seed);
      const v = () => Math.fround((r.uniform() < 0.5 ? -1 : 1) * (0.1 + r.uniform()) * mag);
      return {
        q: Float64Array.from({ length: B * D }, v),
        p: Float64Array.from({ length: B * D }, v),
        teacher: Float64Array.from({ length: B }, () => Math.fround(r.uniform())),
        B,
        D,
        scale,
      } as KdBceArgs;
    });

const close = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
const sigm = (z: number) => 1 / (1 + Math.exp(-z));

describe('kdBce laws (float64 reference)', () => {
  it('per pair it is −[t·log p̂ + (1−t)·log(1−p̂)] with p̂ = σ(s·cos), and stays finite', () => {
    fc.assert(
      fc.property(problem(), (a) => {
        const l = kdBceForwardRef(a);
        for (let i = 0; i < a.B; i++) {
          if (!Number.isFinite(l[i]!)) return false;
          const c = kdRow(a, i).c;
          if (Math.abs(c) > 1 + 1e-12) return false;
          const ph = sigm(a.scale * c);
          const t = a.teacher[i]!;
          // the textbook form cancels catastrophically near p̂ = 1; compare where it is accurate
          if (ph > 1e-6 && ph < 1 - 1e-6 && !close(l[i]!, -(t * Math.log(ph) + (1 - t) * Math.log(1 - ph)), 1e-8)) return false;
        }
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  it('is minimal where σ(s·c) equals the teacher probability (value H(t), zero slope)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.001, max: 0.999, noNaN: true }), fc.double({ min: -30, max: 30, noNaN: true }), (t, z) => {
        const zs = Math.log(t / (1 - t)); // σ(zs) = t
        const H = -(t * Math.log(t) + (1 - t) * Math.log(1 - t));
        const h = 1e-5;
        const slope = (bceWithLogit(zs + h, t) - bceWithLogit(zs - h, t)) / (2 * h);
        return bceWithLogit(z, t) >= bceWithLogit(zs, t) - 1e-12 && close(bceWithLogit(zs, t), H, 1e-12) && Math.abs(slope) < 1e-8;
      }),
      { numRuns: RUNS },
    );
  });

  it('depends only on directions: rescaling either tower leaves it unchanged and its gradient is orthogonal to its input', () => {
    fc.assert(
      fc.property(problem(), fc.double({ min: 1e-3, max: 1e3, noNaN: true }), (a, k) => {
        const l = kdBceForwardRef(a);
        const lk = kdBceForwardRef({ ...a, q: Float64Array.from(a.q, (x) => x * k) });
        const { dq, dp } = kdBceBackwardRef(a, 1, 1);
        for (let i = 0; i < a.B; i++) {
          if (!close(l[i]!, lk[i]!, 1e-9)) return false;
          let oq = 0;
          let op = 0;
          for (let j = 0; j < a.D; j++) {
            oq += dq[i * a.D + j]! * a.q[i * a.D + j]!;
            op += dp[i * a.D + j]! * a.p[i * a.D + j]!;
          }
          // ⟨dq, q⟩ = k·(⟨p, q⟩/(|q||p|) − c) is a difference of terms of size |k| ≤ s
          if (Math.abs(oq) > 1e-12 * a.scale || Math.abs(op) > 1e-12 * a.scale) return false;
        }
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  it('is symmetric in the two towers, and the batch loss is the mean of the per-pair losses', () => {
    fc.assert(
      fc.property(problem(), (a) => {
        const l = kdBceForwardRef(a);
        const sw = kdBceForwardRef({ ...a, q: a.p, p: a.q });
        if (!l.every((x, i) => close(x, sw[i]!, 1e-12))) return false;
        return E.scope(() => {
          const q = E.tensor(a.q, [a.B, a.D], { backend: 'cpu' });
          const p = E.tensor(a.p, [a.B, a.D], { backend: 'cpu' });
          const t = E.tensor(a.teacher, [a.B], { backend: 'cpu' });
          const mean = kdBce(q, p, t, { scale: a.scale }).cpu![0]!;
          const sum = kdBce(q, p, t, { scale: a.scale, reduction: 'sum' }).cpu![0]!;
          const s = l.reduce((x, y) => x + y, 0);
          return close(mean, s / a.B, 1e-12) && close(sum, s, 1e-12);
        });
      }),
      { numRuns: RUNS },
    );
  });
});

describe('kdBce on the GPU matches the reference', () => {
  it('random shapes and magnitudes, forward and both tower gradients', async () => {
    await fc.assert(
      fc.asyncProperty(problem(300, 140), fc.boolean(), async (a, mean) => {
        if (a.scale > 100) a.scale = 8; // s·c at s = 1e4 amplifies the f32 rounding of c by 1e4
        if (a.D < 2) return; // at D = 1, c = ±1 is constant and both gradients are pure rounding
        // both gradients scale with σ(s·c) − t: keep it ≥ 0.3 so f32 cancellation there is not measured
        const teacher = Float64Array.from({ length: a.B }, (_, i) => {
          const ph = sigm(a.scale * kdRow(a, i).c);
          return Math.fround(ph < 0.5 ? ph + 0.3 : ph - 0.3);
        });
        const f = (q: E.Tensor, p: E.Tensor, t: E.Tensor) => kdBce(q, p, t, { scale: a.scale, reduction: mean ? 'mean' : 'sum' });
        // 1e-4: dot products over D and a sum over pairs
        await E.gpucheck(
          f,
          [
            { shape: [a.B, a.D], data: a.q },
            { shape: [a.B, a.D], data: a.p },
            { shape: [a.B], data: teacher, requiresGrad: false },
          ],
          { fwdTol: 1e-4, bwdTol: 1e-4 },
        );
      }),
      { numRuns: 25 },
    );
  });
});

describe('kdBce gradcheck, bad inputs, memory', () => {
  const r = rng(8);
  it('gradcheck in float64 for both towers', () => {
    for (const scale of [8, 1]) {
      const f = (q: E.Tensor, p: E.Tensor, t: E.Tensor) => kdBce(q, p, t, { scale });
      expect(E.gradcheck(f, [input(r, [3, 5]), input(r, [3, 5]), { shape: [3], data: [0.1, 0.9, 0.5], requiresGrad: false }]).ok).toBe(true);
    }
  });

  it('rejects wrong shapes and dtypes, naming the op and shapes', () => {
    E.scope(() => {
      const q = E.tensor(new Array(6).fill(1), [2, 3]);
      const t = E.tensor([0.5, 0.5], [2]);
      expect(() => kdBce(q, E.tensor(new Array(8).fill(1), [2, 4]), t)).toThrow(/kdBce: item embeddings \(query embeddings are \[2, 3\]\) must have shape \[2, 3\] but got \[2, 4\]/);
      expect(() => kdBce(q, q, E.tensor([0.5], [1]))).toThrow(/kdBce: teacher probabilities must have shape \[2\] but got \[1\]/);
      expect(() => kdBce(q, q, E.tensor([0, 1], [2], { dtype: 'i32' }))).toThrow(/kdBce: expected dtype f32/);
      expect(() => kdBce(E.tensor([1, 2], [2]), q, t)).toThrow(/kdBce: query embeddings must have rank 2 but got shape \[2\]/);
    });
  });

  it('forward + backward in a scope leaves liveBytes unchanged', async () => {
    const q = E.keep(E.randn([37, 19], { requiresGrad: true }));
    const p = E.keep(E.randn([37, 19], { requiresGrad: true }));
    const t = E.keep(E.rand([37]));
    await expectSteadyMemory(
      () => {
        E.scope(() => {
          E.backward(kdBce(q, p, t));
          E.zeroGrad([q, p]);
        });
        E.scope(() => {
          E.noGrad(() => kdBce(q, p, t));
        });
      },
      { warmup: false, repeats: 3 },
    );
    E.release(q, p, t);
  });
});
