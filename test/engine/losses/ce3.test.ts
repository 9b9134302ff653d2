// Three-token soft-label CE (eqs. 2–3): the laws on the float64 reference (fast-check, ≥200 cases
// each), the GPU kernels against the reference on random shapes, gradcheck, bad inputs, memory.
// A law named [eq. 2] / [eq. 3] states today's equation and fails on purpose when it changes; one
// named [invariant] holds for any loss on the softmax of the three label logits and must keep passing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as E from '../../../engine/index.ts';
import { threeTokenCE, threeTokenProbs, type LabelIds } from '../../../engine/losses/index.ts';
import { ce3BackwardRef, ce3ForwardRef, ce3ProbsRef, type Ce3Args } from '../../../engine/reference/losses/ce3.ts';
import { expectSteadyMemory, input, rng } from '../../util.ts';

const RUNS = 200;

// A random problem: B rows, V columns, three distinct label columns, logits up to `mag`.
const problem = (maxB = 6, maxV = 12) =>
  fc
    .record({
      B: fc.integer({ min: 1, max: maxB }),
      V: fc.integer({ min: 3, max: maxV }),
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
      mag: fc.constantFrom(1, 5, 30, 1e3, 1e4),
      alpha: fc.double({ min: 0, max: 1, noNaN: true }),
    })
    .map(({ B, V, seed, mag, alpha }) => {
      const r = rng(seed);
      const cols = [...Array(V).keys()];
      for (let i = V - 1; i > 0; i--) {
        const j = r.int(i + 1);
        [cols[i], cols[j]] = [cols[j]!, cols[i]!];
      }
      const ids = [cols[0]!, cols[1]!, cols[2]!] as const;
      const logits = Float64Array.from({ length: B * V }, () => (2 * r.uniform() - 1) * mag);
      const hard = Int32Array.from({ length: B }, () => r.int(3));
      const soft = new Float64Array(B * 3);
      for (let i = 0; i < B; i++) {
        const e = [r.uniform() + 1e-3, r.uniform() + 1e-3, r.uniform() + 1e-3];
        const s = e[0]! + e[1]! + e[2]!;
        e.forEach((v, k) => (soft[3 * i + k] = v / s));
      }
      const weights = Float64Array.from({ length: B }, () => 0.1 + r.uniform());
      return { B, V, ids, logits, hard, soft, alpha, weights, mag } as Ce3Args & { mag: number };
    });

const sum = (a: ArrayLike<number>) => Array.from(a).reduce((s, x) => s + x, 0);
const close = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));

describe('threeTokenCE laws (float64 reference)', () => {
  it('[eq. 3] soft CE ≥ entropy of the target, with equality when p̂ equals the target', () => {
    fc.assert(
      fc.property(problem(), (a) => {
        const s = { ...a, alpha: 0, weights: null };
        const l = ce3ForwardRef(s);
        const probs = ce3ProbsRef(s);
        for (let i = 0; i < a.B; i++) {
          let H = 0;
          let kl = 0;
          for (let k = 0; k < 3; k++) {
            const t = a.soft![3 * i + k]!;
            H -= t * Math.log(t);
            kl += t * Math.log(t / probs[3 * i + k]!);
          }
          if (!(l[i]! >= H - 1e-12 * Math.max(1, Math.abs(l[i]!)))) return false;
          if (!close(l[i]! - H, kl, 1e-9)) return false; // the gap is KL(t‖p̂), zero only at p̂ = t
        }
        // logits = log(target) make p̂ = target: the bound is attained
        const eq = { ...s, logits: new Float64Array(a.B * a.V).fill(-3) };
        for (let i = 0; i < a.B; i++) a.ids.forEach((c, k) => (eq.logits[i * a.V + c] = Math.log(a.soft![3 * i + k]!)));
        const le = ce3ForwardRef(eq);
        for (let i = 0; i < a.B; i++) {
          const H = -[0, 1, 2].reduce((h, k) => h + a.soft![3 * i + k]! * Math.log(a.soft![3 * i + k]!), 0);
          if (!close(le[i]!, H, 1e-12)) return false;
        }
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  it('[eq. 3] soft CE with a one-hot target equals hard CE', () => {
    fc.assert(
      fc.property(problem(), (a) => {
        const onehot = new Float64Array(a.B * 3);
        for (let i = 0; i < a.B; i++) onehot[3 * i + a.hard[i]!] = 1;
        const mixed = ce3ForwardRef({ ...a, soft: onehot });
        const hardOnly = ce3ForwardRef({ ...a, soft: null });
        for (let i = 0; i < a.B; i++) {
          // hard CE written independently: −log p̂_h = logsumexp(z) − z_h
          const z = a.ids.map((c) => a.logits[i * a.V + c]!);
          const m = Math.max(...z);
          const lp = z[a.hard[i]!]! - m - Math.log(z.reduce((s, x) => s + Math.exp(x - m), 0));
          if (!close(hardOnly[i]!, -a.weights![i]! * lp, 1e-9)) return false;
          if (!close(mixed[i]!, hardOnly[i]!, 1e-12)) return false;
        }
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  it('[eq. 2] the α-mix is affine in α: ℓ(α) = α·ℓ(1) + (1−α)·ℓ(0)', () => {
    fc.assert(
      fc.property(problem(), (a) => {
        const l = ce3ForwardRef(a);
        const l1 = ce3ForwardRef({ ...a, alpha: 1 });
        const l0 = ce3ForwardRef({ ...a, alpha: 0 });
        return [...l].every((x, i) => close(x, a.alpha * l1[i]! + (1 - a.alpha) * l0[i]!, 1e-9));
      }),
      { numRuns: RUNS },
    );
  });

  it('[invariant] adding a constant to the three logits changes nothing', () => {
    fc.assert(
      fc.property(problem(), fc.double({ min: -1e4, max: 1e4, noNaN: true }), (a, c) => {
        const shifted = Float64Array.from(a.logits);
        for (let i = 0; i < a.B; i++) for (const col of a.ids) shifted[i * a.V + col]! += c;
        const l = ce3ForwardRef(a);
        const ls = ce3ForwardRef({ ...a, logits: shifted });
        // float64 rounding of z + c is ~|c|·1e-16 per logit
        return [...l].every((x, i) => Math.abs(x - ls[i]!) <= 1e-9 * (1 + Math.abs(c) + a.mag));
      }),
      { numRuns: RUNS },
    );
  });

  it('[eq. 2–3] the gradient over the three logits is p̂ − (α·onehot + (1−α)·soft)', () => {
    fc.assert(
      fc.property(problem(), (a) => {
        const dx = ce3BackwardRef({ ...a, weights: null }, () => 1);
        const probs = ce3ProbsRef(a);
        for (let i = 0; i < a.B; i++) {
          for (let k = 0; k < 3; k++) {
            const t = a.alpha * (a.hard[i] === k ? 1 : 0) + (1 - a.alpha) * a.soft![3 * i + k]!;
            if (Math.abs(dx[i * a.V + a.ids[k]!]! - (probs[3 * i + k]! - t)) > 1e-12) return false;
          }
        }
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  it('[invariant] the gradient sums to zero per row (shift invariance) and is exactly 0 outside the three label columns', () => {
    fc.assert(
      fc.property(problem(), (a) => {
        const dx = ce3BackwardRef({ ...a, weights: null }, () => 1);
        for (let i = 0; i < a.B; i++) {
          let rowSum = 0;
          for (let c = 0; c < a.V; c++) {
            const d = dx[i * a.V + c]!;
            if (a.ids.includes(c)) rowSum += d;
            else if (!Object.is(d, 0)) return false;
          }
          if (Math.abs(rowSum) > 1e-12) return false;
        }
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  it('[invariant] stays finite for |logit| up to 1e4, and the batch loss is the mean of the per-sample losses (cpu backend op)', () => {
    fc.assert(
      fc.property(problem(), (a) => {
        return E.scope(() => {
          const logits = E.tensor(a.logits, [a.B, a.V], { backend: 'cpu', requiresGrad: true });
          const hard = E.tensor(a.hard, [a.B], { backend: 'cpu', dtype: 'i32' });
          const soft = E.tensor(a.soft!, [a.B, 3], { backend: 'cpu' });
          const weights = E.tensor(a.weights!, [a.B], { backend: 'cpu' });
          const per = threeTokenCE(logits, a.ids, hard, soft, { alpha: a.alpha, weights, reduction: 'none' });
          const mean = threeTokenCE(logits, a.ids, hard, soft, { alpha: a.alpha, weights });
          const tot = threeTokenCE(logits, a.ids, hard, soft, { alpha: a.alpha, weights, reduction: 'sum' });
          const p = per.cpu as Float64Array;
          E.backward(mean);
          const finite = [...p, ...(logits.grad!.cpu as Float64Array)].every(Number.isFinite);
          const m = mean.cpu![0]!;
          E.unkeep(logits.grad!);
          return finite && close(m, sum(p) / a.B, 1e-12) && close(tot.cpu![0]!, sum(p), 1e-12);
        });
      }),
      { numRuns: RUNS },
    );
  });
});

// GPU against the float64 reference. Data is rounded to f32 first so both sides see the same
// logits (at |z| = 1e4 the f32 rounding of the input alone moves p̂ by ~1e-3).
const f32 = (a: ArrayLike<number>) => Float64Array.from(a, Math.fround);

describe('threeTokenCE on the GPU matches the reference', () => {
  it('random shapes, extreme logits, every reduction, forward and backward', async () => {
    await fc.assert(
      fc.asyncProperty(problem(40, 300), fc.constantFrom('mean', 'sum', 'none'), fc.boolean(), fc.boolean(), async (a, reduction, withSoft, withW) => {
        const f = (x: E.Tensor, h: E.Tensor, s: E.Tensor, w: E.Tensor) =>
          threeTokenCE(x, a.ids, h, withSoft ? s : null, { alpha: a.alpha, weights: withW ? w : undefined, reduction: reduction as 'mean' });
        // 1e-4: a sum over rows, and log p̂ at |z| = 1e4 carries f32 rounding of the shifted logits
        const res = await E.gpucheck(
          f,
          [
            { shape: [a.B, a.V], data: f32(a.logits) },
            { shape: [a.B], data: a.hard, dtype: 'i32' },
            { shape: [a.B, 3], data: f32(a.soft!), requiresGrad: false },
            { shape: [a.B], data: f32(a.weights!), requiresGrad: false },
          ],
          { fwdTol: 1e-4, bwdTol: 1e-4 },
        );
        expect(res.fwdErr).toBeLessThan(1e-4);
      }),
      { numRuns: 30 },
    );
  });

  it('writes exact zeros outside the label columns and finite values at |logit| = 1e4', async () => {
    const B = 67;
    const V = 263; // not a multiple of 4: vec4 stores straddle rows
    const ids: LabelIds = [262, 0, 130];
    const r = rng(5);
    const data = Float64Array.from({ length: B * V }, () => (r.uniform() < 0.5 ? -1e4 : 1e4) * r.uniform());
    const hard = Int32Array.from({ length: B }, () => r.int(3));
    await E.scopeAsync(async () => {
      const x = E.tensor(data, [B, V], { requiresGrad: true });
      const loss = threeTokenCE(x, ids, E.tensor(hard, [B], { dtype: 'i32' }), null);
      E.backward(loss);
      const g = await E.read(x.grad!);
      expect(Number.isFinite(await E.item(loss))).toBe(true);
      for (let i = 0; i < B; i++) {
        let rowSum = 0;
        for (let c = 0; c < V; c++) {
          const d = g[i * V + c]!;
          if (!ids.includes(c)) expect(d).toBe(0);
          else rowSum += d;
        }
        expect(Math.abs(rowSum)).toBeLessThan(1e-6);
      }
      E.unkeep(x.grad!);
    });
  });

  it('threeTokenProbs gives the softmax over the three label columns', async () => {
    const r = rng(9);
    for (const [B, V] of [[1, 3], [37, 41], [300, 5]] as const) {
      const d = f32(input(r, [B, V], 0.1, 20).data);
      const ids: LabelIds = [V - 1, 0, 1];
      const got = await E.scopeAsync(async () => E.read(threeTokenProbs(E.tensor(d, [B, V]), ids)));
      const ref = ce3ProbsRef({ logits: d, B, V, ids });
      expect(E.relErr(got, ref)).toBeLessThan(1e-5);
    }
  });
});

describe('threeTokenCE gradcheck, bad inputs, memory', () => {
  const r = rng(3);
  it('gradcheck in float64 (soft and weighted, per-sample and mean)', () => {
    for (const reduction of ['mean', 'none'] as const) {
      const f = (x: E.Tensor, h: E.Tensor, s: E.Tensor, w: E.Tensor) => threeTokenCE(x, [4, 1, 6], h, s, { alpha: 0.3, weights: w, reduction });
      const soft = [0.2, 0.3, 0.5, 0.6, 0.3, 0.1, 0.1, 0.1, 0.8];
      expect(
        E.gradcheck(f, [input(r, [3, 7], 0.1, 3), { shape: [3], data: [2, 0, 1], dtype: 'i32' }, { shape: [3, 3], data: soft, requiresGrad: false }, { shape: [3], data: [0.5, 1, 2], requiresGrad: false }]).ok,
      ).toBe(true);
    }
  });

  it('rejects wrong shapes, dtypes and label ids, naming the op and shapes', () => {
    E.scope(() => {
      const x = E.tensor(new Array(12).fill(1), [3, 4]);
      const h = E.tensor([0, 1, 2], [3], { dtype: 'i32' });
      expect(() => threeTokenCE(x, [0, 1, 2], E.tensor([0, 1], [2], { dtype: 'i32' }), null)).toThrow(/threeTokenCE: hard labels must have shape \[3\] but got \[2\]/);
      expect(() => threeTokenCE(x, [0, 1, 2], E.tensor([0, 1, 2], [3]), null)).toThrow(/threeTokenCE: expected dtype i32/);
      expect(() => threeTokenCE(x, [0, 1, 2], h, E.tensor([1, 0, 0], [1, 3]))).toThrow(/threeTokenCE: soft labels must have shape \[3, 3\] but got \[1, 3\]/);
      expect(() => threeTokenCE(x, [0, 1, 4], h, null)).toThrow(/threeTokenCE: labelIds \[0, 1, 4\] must be three distinct columns of logits \[3, 4\]/);
      expect(() => threeTokenCE(x, [0, 1, 1], h, null)).toThrow(/distinct/);
      expect(() => threeTokenCE(E.tensor([1, 2, 3], [3]), [0, 1, 2], h, null)).toThrow(/threeTokenCE: logits must be \[B, V\]/);
      expect(() => threeTokenProbs(x, [0, 9, 1])).toThrow(/threeTokenProbs: labelIds/);
      const hc = E.tensor([0, 5, 1], [3], { dtype: 'i32', backend: 'cpu' });
      expect(() => threeTokenCE(E.tensor(new Array(12).fill(1), [3, 4], { backend: 'cpu' }), [0, 1, 2], hc, null)).toThrow(/hard label 5 at row 1/);
    });
  });

  it('forward + backward in a scope leaves liveBytes unchanged', async () => {
    const x = E.keep(E.randn([33, 70], { requiresGrad: true }));
    const h = E.keep(E.tensor(Array.from({ length: 33 }, (_, i) => i % 3), [33], { dtype: 'i32' }));
    const s = E.keep(E.fill([33, 3], 1 / 3));
    await expectSteadyMemory(
      () => {
        E.scope(() => {
          E.backward(threeTokenCE(x, [5, 6, 7], h, s, { alpha: 0.5 }));
          E.zeroGrad([x]);
        });
      },
      { warmup: false, repeats: 3 },
    );
    E.release(x, h, s);
  });
});
