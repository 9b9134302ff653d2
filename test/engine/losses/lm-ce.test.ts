// Token-level LM cross-entropy: laws on the float64 reference (fast-check, ≥200 cases each), GPU
// against the reference on random shapes (vec4 and scalar rows, ignored tokens, a 32K vocabulary),
// gradcheck, bad inputs, memory.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as E from '../../../engine/index.ts';
import { lmCrossEntropy } from '../../../engine/losses/index.ts';
import { lmCeBackwardRef, lmCeForwardRef, type LmCeArgs } from '../../../engine/reference/losses/lm-ce.ts';
import { expectSteadyMemory, input, rng } from '../../util.ts';

const RUNS = 200;
const IGN = -100;

const problem = (maxN = 6, maxV = 20) =>
  fc
    .record({
      N: fc.integer({ min: 1, max: maxN }),
      V: fc.integer({ min: 1, max: maxV }),
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
      mag: fc.constantFrom(1, 5, 30, 1e3, 1e4),
      pIgnore: fc.constantFrom(0, 0.3, 1),
      mean: fc.boolean(),
    })
    .map(({ N, V, seed, mag, pIgnore, mean }) => {
      const r = rng(seed);
      const logits = Float64Array.from({ length: N * V }, () => Math.fround((2 * r.uniform() - 1) * mag));
      const targets = Int32Array.from({ length: N }, () => (r.uniform() < pIgnore ? IGN : r.int(V)));
      const weights = Float64Array.from({ length: N }, () => Math.fround(0.1 + r.uniform()));
      return { logits, N, V, targets, ignoreIndex: IGN, weights, mean, mag } as LmCeArgs & { mag: number };
    });

const close = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
const valid = (a: LmCeArgs) => Array.from(a.targets).filter((t) => t !== IGN).length;

describe('lmCrossEntropy laws (float64 reference)', () => {
  it('each token costs −w·log softmax(z)[target]; the mean divides by the non-ignored count only', () => {
    fc.assert(
      fc.property(problem(), (a) => {
        const { perToken, total } = lmCeForwardRef(a);
        let s = 0;
        for (let r = 0; r < a.N; r++) {
          const t = a.targets[r]!;
          if (t === IGN) {
            if (perToken[r] !== 0) return false;
            continue;
          }
          const row = Array.from(a.logits).slice(r * a.V, (r + 1) * a.V);
          const m = Math.max(...row);
          const p = Math.exp(row[t]! - m) / row.reduce((acc, z) => acc + Math.exp(z - m), 0);
          if (p > 1e-300 && !close(perToken[r]!, -a.weights![r]! * Math.log(p), 1e-9)) return false;
          s += perToken[r]!;
        }
        return close(total, a.mean ? s / Math.max(valid(a), 1) : s, 1e-12) && perToken.every((x) => x >= 0);
      }),
      { numRuns: RUNS },
    );
  });

  it('ignored tokens change nothing: their logits are free and their gradient rows are 0', () => {
    fc.assert(
      fc.property(problem(), fc.double({ min: -50, max: 50, noNaN: true }), (a, d) => {
        const moved = Float64Array.from(a.logits);
        for (let r = 0; r < a.N; r++) if (a.targets[r] === IGN) for (let c = 0; c < a.V; c++) moved[r * a.V + c]! += d * (c + 1);
        const f = lmCeForwardRef(a);
        if (lmCeForwardRef({ ...a, logits: moved }).total !== f.total) return false;
        const dx = lmCeBackwardRef(a, 1, f.norm);
        for (let r = 0; r < a.N; r++) if (a.targets[r] === IGN) for (let c = 0; c < a.V; c++) if (dx[r * a.V + c] !== 0) return false;
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  it('is linear in the task weight, and unit weights equal no weights', () => {
    fc.assert(
      fc.property(problem(), fc.double({ min: 0, max: 10, noNaN: true }), (a, k) => {
        const base = lmCeForwardRef(a).total;
        const scaled = lmCeForwardRef({ ...a, weights: Array.from(a.weights!, (w) => w * k) }).total;
        const ones = lmCeForwardRef({ ...a, weights: new Float64Array(a.N).fill(1) }).total;
        return close(scaled, k * base, 1e-12) && close(ones, lmCeForwardRef({ ...a, weights: null }).total, 1e-15);
      }),
      { numRuns: RUNS },
    );
  });

  it('adding a constant to a row changes nothing', () => {
    fc.assert(
      fc.property(problem(), fc.double({ min: -1e4, max: 1e4, noNaN: true }), (a, c) => {
        const shifted = Float64Array.from(a.logits, (z) => z + c);
        return Math.abs(lmCeForwardRef(a).total - lmCeForwardRef({ ...a, logits: shifted }).total) <= 1e-9 * (1 + Math.abs(c) + a.mag);
      }),
      { numRuns: RUNS },
    );
  });

  it('the gradient is w·(softmax − onehot)/norm: each row sums to zero and is negative only at the target', () => {
    fc.assert(
      fc.property(problem(), (a) => {
        const f = lmCeForwardRef(a);
        const dx = lmCeBackwardRef(a, 1, f.norm);
        for (let r = 0; r < a.N; r++) {
          let s = 0;
          for (let c = 0; c < a.V; c++) {
            const d = dx[r * a.V + c]!;
            if (!Number.isFinite(d)) return false;
            if (d < 0 && c !== a.targets[r]) return false;
            s += d;
          }
          if (Math.abs(s) > 1e-12) return false;
        }
        return Number.isFinite(f.total);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('lmCrossEntropy on the GPU matches the reference', () => {
  it('random shapes (vec4 and scalar rows), ignored tokens, weights, both reductions', async () => {
    await fc.assert(
      fc.asyncProperty(problem(40, 700), fc.boolean(), async (a, withW) => {
        const f = (x: E.Tensor, t: E.Tensor, w: E.Tensor) => lmCrossEntropy(x, t, { weights: withW ? w : undefined, reduction: a.mean ? 'mean' : 'sum' });
        // 1e-4: a log-sum-exp over V then a sum over tokens
        await E.gpucheck(
          f,
          [
            { shape: [a.N, a.V], data: a.logits },
            { shape: [a.N], data: a.targets, dtype: 'i32' },
            { shape: [a.N], data: a.weights!, requiresGrad: false },
          ],
          { fwdTol: 1e-4, bwdTol: 1e-4 },
        );
      }),
      { numRuns: 30 },
    );
  });

  it('a 32K vocabulary (many chunks per row), prompt tokens ignored', async () => {
    const r = rng(17);
    for (const V of [32768, 32771]) {
      const N = 5;
      const x = input(r, [N, V], 0.1, 8);
      await E.gpucheck((l: E.Tensor, t: E.Tensor) => lmCrossEntropy(l, t), [x, { shape: [N], data: [IGN, 3, V - 1, IGN, 0], dtype: 'i32' }], { fwdTol: 1e-4, bwdTol: 1e-4 });
    }
  });

  it('all tokens ignored: loss 0, gradient 0', async () => {
    await E.scopeAsync(async () => {
      const x = E.randn([3, 9], { requiresGrad: true });
      const l = lmCrossEntropy(x, E.tensor([IGN, IGN, IGN], [3], { dtype: 'i32' }));
      E.backward(l);
      expect(await E.item(l)).toBe(0);
      expect((await E.toArray(x.grad!)).every((v) => v === 0)).toBe(true);
      E.unkeep(x.grad!);
    });
  });
});

describe('lmCrossEntropy gradcheck, bad inputs, memory', () => {
  const r = rng(4);
  it('gradcheck in float64 with ignored tokens and weights', () => {
    for (const reduction of ['mean', 'sum'] as const) {
      const f = (x: E.Tensor, t: E.Tensor, w: E.Tensor) => lmCrossEntropy(x, t, { weights: w, reduction });
      expect(E.gradcheck(f, [input(r, [4, 6], 0.1, 3), { shape: [4], data: [5, IGN, 0, 2], dtype: 'i32' }, { shape: [4], data: [0.1, 1, 1, 0.5], requiresGrad: false }]).ok).toBe(true);
    }
  });

  it('rejects wrong shapes and dtypes, naming the op and shapes', () => {
    E.scope(() => {
      const x = E.tensor(new Array(12).fill(1), [3, 4]);
      expect(() => lmCrossEntropy(x, E.tensor([0, 1], [2], { dtype: 'i32' }))).toThrow(/lmCrossEntropy: targets must have shape \[3\] but got \[2\]/);
      expect(() => lmCrossEntropy(x, E.tensor([0, 1, 2], [3]))).toThrow(/lmCrossEntropy: expected dtype i32/);
      expect(() => lmCrossEntropy(E.tensor([1, 2], [2]), E.tensor([0, 1], [2], { dtype: 'i32' }))).toThrow(/lmCrossEntropy: logits must be \[N, V\].*\[2\]/);
      expect(() => lmCrossEntropy(x, E.tensor([0, 1, 2], [3], { dtype: 'i32' }), { weights: E.tensor([1], [1]) })).toThrow(/lmCrossEntropy: weights must have shape \[3\] but got \[1\]/);
      const xc = E.tensor(new Array(12).fill(1), [3, 4], { backend: 'cpu' });
      expect(() => lmCrossEntropy(xc, E.tensor([0, 4, 1], [3], { dtype: 'i32', backend: 'cpu' }))).toThrow(/target 4 at row 1 is outside \[0, 4\)/);
    });
  });

  it('never allocates an [N, V] buffer besides the gradient of the logits (the probabilities stay unmaterialised)', async () => {
    const N = 64;
    const V = 3000;
    const x = E.keep(E.randn([N, V], { requiresGrad: true }));
    const t = E.keep(E.tensor(Array.from({ length: N }, (_, i) => (i * 37) % V), [N], { dtype: 'i32' }));
    await E.sync();
    const rowBytes = N * V * 4;
    E.scope(() => {
      const live0 = E.liveBytes();
      E.resetPeak();
      const loss = lmCrossEntropy(x, t);
      expect(E.peakBytes() - live0).toBeLessThan(rowBytes / 16); // per-row statistics only
      const live1 = E.liveBytes();
      E.resetPeak();
      E.backward(loss);
      // the one [N, V] allocation is x's gradient itself (plus the scalar seed gradient)
      expect(E.peakBytes() - live1).toBeLessThan(rowBytes + rowBytes / 16);
      expect(x.grad!.size).toBe(N * V);
      E.zeroGrad([x]);
    });
    E.release(x, t);
  });

  it('overwriteLogits: the same gradient (GPU and float64, vec4 and scalar rows, weights, ignored rows), written over the logits', async () => {
    for (const [N, V] of [[37, 3000], [5, 1001]] as const) {
      const xs = input(r, [N, V], 0.1, 4).data;
      const tg = Array.from({ length: N }, (_, i) => (i % 5 === 2 ? IGN : (i * 131) % V));
      const ws = Array.from({ length: N }, (_, i) => 0.2 + (i % 3) * 0.4);
      for (const backend of ['gpu', 'cpu'] as const) {
        const grads: Float64Array[] = [];
        await E.scopeAsync(async () => {
          for (const overwriteLogits of [false, true]) {
            const leaf = E.tensor(xs, [N, V], { backend, requiresGrad: true });
            const z = E.mulScalar(leaf, 1); // logits as an op's output, as in a training step
            const t = E.tensor(tg, [N], { dtype: 'i32', backend });
            const w = E.tensor(ws, [N], { backend });
            const loss = lmCrossEntropy(z, t, { weights: w, overwriteLogits });
            await E.sync();
            const live = backend === 'gpu' ? E.liveBytes() : 0;
            E.resetPeak();
            E.backward(loss);
            // the leaf's own gradient is one [N, V] buffer; the logits' gradient is a second one unless it overwrites them
            if (backend === 'gpu') expect(E.peakBytes() - live).toSatisfy((b: number) => (overwriteLogits ? b < 1.3 * N * V * 4 : b >= 2 * N * V * 4));
            grads.push(Float64Array.from(await E.read(leaf.grad!)));
            if (overwriteLogits) expect(E.relErr(await E.read(z), grads[1]!)).toBe(0); // the logits' storage now holds their gradient
          }
        });
        expect(E.relErr(grads[1]!, grads[0]!), `${backend} N=${N} V=${V}`).toBeLessThan(1e-6);
      }
    }
  });

  it('forward + backward in a scope leaves liveBytes unchanged', async () => {
    const x = E.keep(E.randn([21, 130], { requiresGrad: true }));
    const t = E.keep(E.tensor(Array.from({ length: 21 }, (_, i) => (i % 4 === 0 ? IGN : i)), [21], { dtype: 'i32' }));
    await expectSteadyMemory(
      () => {
        E.scope(() => {
          E.backward(lmCrossEntropy(x, t));
          E.zeroGrad([x]);
        });
        E.scope(() => {
          E.noGrad(() => lmCrossEntropy(x, t));
        });
      },
      { warmup: false, repeats: 3 },
    );
    E.release(x, t);
  });
});
