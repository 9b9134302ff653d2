import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { rng } from '../../../engine/random.ts';
import { accuracyScored, binaryF1Scored, metricValue, MICRO_F1, microF1Scored } from '../../../pipeline/eval/count-metrics.ts';
import { evaluate } from '../../../pipeline/eval/metrics.ts';
import { metricBootstrap, pairedBootstrap, quantileSorted } from '../../../pipeline/eval/paired-bootstrap.ts';
import { comparePaired, formatComparison, verdictOf } from '../../../pipeline/eval/paired-comparison.ts';
import { binaryMetrics } from '../../../pipeline/online/metrics.ts';

/** A test set of `queries` queries with 1..maxPer samples each, and two models' predictions. */
const testSet = (queries: { min: number; max: number }, maxPer = 5) =>
  fc
    .array(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: maxPer }),
      { minLength: queries.min, maxLength: queries.max },
    )
    .map((qs) => {
      const clusters: string[] = [];
      const truth: number[] = [];
      const a: number[] = [];
      const b: number[] = [];
      qs.forEach((samples, q) =>
        samples.forEach(([t, pa, pb]) => {
          clusters.push(`q${q}`);
          truth.push(t);
          a.push(pa);
          b.push(pb);
        }),
      );
      return { clusters, truth, a, b };
    });

const compare = (s: { clusters: string[]; truth: number[]; a: number[]; b: number[] }, opts = {}) =>
  comparePaired(s.clusters, [{ a: microF1Scored(s.truth, s.a), b: microF1Scored(s.truth, s.b) }], opts);

describe('count metrics', () => {
  it('micro-F1 from counts equals eq. 5 of metrics.ts', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 50 }), (p) => {
        const t = p.map((x) => x[0]);
        const q = p.map((x) => x[1]);
        expect(metricValue(microF1Scored(t, q))).toBeCloseTo(evaluate(t, q).microF1, 12);
      }),
      { numRuns: 100 },
    );
  });
  it('binary F1 and accuracy from counts equal online/metrics.ts', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.boolean()), { minLength: 1, maxLength: 50 }), (p) => {
        const t = p.map((x) => x[0]);
        const q = p.map((x) => x[1]);
        const ref = binaryMetrics(t, q.map((x) => (x ? 1 : 0)));
        expect(metricValue(binaryF1Scored(t, q))).toBeCloseTo(ref.f1, 12);
        expect(metricValue(accuracyScored(p.map((x) => x[0] === x[1])))).toBeCloseTo(ref.accuracy, 12);
      }),
      { numRuns: 100 },
    );
  });
});

describe('quantile (type 7)', () => {
  it('interpolates between order statistics', () => {
    const s = [0, 1, 2, 3, 4];
    expect(quantileSorted(s, 0)).toBe(0);
    expect(quantileSorted(s, 1)).toBe(4);
    expect(quantileSorted(s, 0.5)).toBe(2);
    expect(quantileSorted(s, 0.1)).toBeCloseTo(0.4, 12);
    expect(() => quantileSorted([], 0.5)).toThrow(/no values/);
  });
});

describe('paired query bootstrap: hand-computed cases', () => {
  it('two one-sample queries: the bootstrap distribution is {0: ¼, ½: ½, 1: ¼}', () => {
    // A wrong on q1, B right on q1, both right on q2: F1 A = ½, B = 1.
    const c = compare({ clusters: ['q1', 'q2'], truth: [0, 0], a: [1, 0], b: [0, 0] }, { resamples: 4000 });
    expect(c.a).toBe(0.5);
    expect(c.b).toBe(1);
    expect(c.delta).toBe(0.5);
    expect(c.lo).toBe(0); // 2.5% < P(0) = 25%
    expect(c.hi).toBe(1); // 97.5% > 1 − P(1) = 75%
    expect(c.se).toBeGreaterThan(0.33); // √(¼·¼ + ¼·¼) = 0.354
    expect(c.se).toBeLessThan(0.38);
    expect(c.verdict).toBe('no detectable effect');
    expect(c.discordant).toEqual({ aOnly: 0, bOnly: 1 });
    expect(c.pValue).toBe(1);
  });

  it('a gain inside one query is no evidence by query, but is by sample', () => {
    // 4 queries × 4 samples; B beats A on every sample of q0 and nowhere else: F1 A = ¾, B = 1.
    const clusters = Array.from({ length: 16 }, (_, i) => `q${i >> 2}`);
    const truth = new Array<number>(16).fill(2);
    const a = truth.map((t, i) => (i < 4 ? 0 : t));
    const byQuery = compare({ clusters, truth, a, b: truth }, { resamples: 4000 });
    expect(byQuery.delta).toBe(0.25);
    // k = draws of q0 ~ Bin(4, ¼), delta = k/4: P(k = 0) = 0.316 → lo = 0; P(k ≤ 2) = 0.949, P(k ≤ 3) = 0.996 → hi = ¾
    expect(byQuery.lo).toBe(0);
    expect(byQuery.hi).toBe(0.75);
    expect(byQuery.verdict).toBe('no detectable effect');
    // each sample its own cluster: k ~ Bin(16, ¼), delta = k/16: P(k = 0) = 0.010, P(k ≤ 1) = 0.063 → lo = 1/16
    const bySample = compare({ clusters: clusters.map((_, i) => `s${i}`), truth, a, b: truth }, { resamples: 4000 });
    expect(bySample.lo).toBe(1 / 16);
    expect(bySample.verdict).toBe('helps');
    // McNemar: 4 discordant, all B's: p = 2 · 2⁻⁴
    expect(byQuery.pValue).toBe(0.125);
  });

  it('matches the analytic standard error of a paired difference on independent samples', () => {
    // n samples, each its own query; B only right on 15%, A only right on 5%: Var = (0.2 − 0.1²)/n
    const n = 1000;
    const truth = new Array<number>(n).fill(1);
    const a = truth.map((_, i) => (i % 20 === 0 ? 1 : i % 20 < 4 ? 0 : i % 20 < 12 ? 1 : 2));
    const b = truth.map((_, i) => (i % 20 === 0 ? 0 : i % 20 < 4 ? 1 : i % 20 < 12 ? 1 : 2));
    const c = compare({ clusters: truth.map((_, i) => `q${i}`), truth, a, b }, { resamples: 4000 });
    const se = Math.sqrt((0.2 - 0.1 ** 2) / n);
    expect(c.delta).toBeCloseTo(0.1, 12);
    expect(c.se / se).toBeGreaterThan(0.9);
    expect(c.se / se).toBeLessThan(1.1);
    expect(c.lo).toBeGreaterThan(0.1 - 2.3 * se);
    expect(c.hi).toBeLessThan(0.1 + 2.3 * se);
    expect(c.verdict).toBe('helps');
  });

  it('covers the true difference about 95% of the time', () => {
    // 200 test sets of 80 queries × 3 samples; per sample, B right with 0.6, A with 0.55 (independent)
    const r = rng(7);
    let covered = 0;
    const sets = 200;
    for (let k = 0; k < sets; k++) {
      const clusters: string[] = [];
      const truth: number[] = [];
      const a: number[] = [];
      const b: number[] = [];
      for (let q = 0; q < 80; q++) {
        const hard = r.uniform() < 0.5; // queries differ in difficulty: samples of one query are correlated
        for (let j = 0; j < 3; j++) {
          clusters.push(`q${q}`);
          truth.push(0);
          a.push(r.uniform() < (hard ? 0.3 : 0.8) ? 0 : 1);
          b.push(r.uniform() < (hard ? 0.35 : 0.85) ? 0 : 1);
        }
      }
      const c = compare({ clusters, truth, a, b }, { resamples: 500, seed: k });
      if (c.lo <= 0.05 && 0.05 <= c.hi) covered++;
    }
    expect(covered / sets).toBeGreaterThan(0.88);
    expect(covered / sets).toBeLessThan(0.995);
  });
});

describe('paired query bootstrap: laws', () => {
  it('identical predictions give the interval [0, 0], p = 1 and no detectable effect', () => {
    fc.assert(
      fc.property(testSet({ min: 1, max: 30 }), (s) => {
        const c = compare({ ...s, b: s.a }, { resamples: 200 });
        expect([c.delta, c.lo, c.hi, c.se]).toEqual([0, 0, 0, 0]);
        expect(c.pValue).toBe(1);
        expect(c.verdict).toBe('no detectable effect');
      }),
      { numRuns: 50 },
    );
  });

  it('swapping the two models negates the estimate and the interval', () => {
    fc.assert(
      fc.property(testSet({ min: 1, max: 30 }), fc.integer({ min: 0, max: 1000 }), (s, seed) => {
        const ab = compare(s, { resamples: 300, seed });
        const ba = compare({ ...s, a: s.b, b: s.a }, { resamples: 300, seed });
        expect(ba.delta + ab.delta).toBe(0); // exactly: x − y = −(y − x) in IEEE arithmetic
        expect(ba.lo).toBeCloseTo(-ab.hi, 12);
        expect(ba.hi).toBeCloseTo(-ab.lo, 12);
        expect(ba.pValue).toBe(ab.pValue);
        expect(ba.discordant).toEqual({ aOnly: ab.discordant.bOnly, bOnly: ab.discordant.aOnly });
        const flip = { helps: 'hurts', hurts: 'helps', 'no detectable effect': 'no detectable effect' } as const;
        expect(ba.verdict).toBe(flip[ab.verdict]);
      }),
      { numRuns: 50 },
    );
  });

  it('does not depend on the order of queries or of samples', () => {
    fc.assert(
      fc.property(testSet({ min: 1, max: 30 }), fc.integer({ min: 1, max: 2 ** 31 }), (s, seed) => {
        const r = rng(seed);
        const order = s.truth.map((_, i) => i);
        for (let i = order.length - 1; i > 0; i--) {
          const j = r.int(i + 1);
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        const pick = <T>(xs: T[]) => order.map((i) => xs[i]!);
        const c0 = compare(s, { resamples: 200 });
        const c1 = compare({ clusters: pick(s.clusters), truth: pick(s.truth), a: pick(s.a), b: pick(s.b) }, { resamples: 200 });
        expect(c1.delta).toBeCloseTo(c0.delta, 12);
        expect(c1.lo).toBeCloseTo(c0.lo, 12);
        expect(c1.hi).toBeCloseTo(c0.hi, 12);
        expect(c1.pValue).toBe(c0.pValue);
      }),
      { numRuns: 40 },
    );
  });

  it('more resamples do not move the centre of the interval beyond Monte Carlo noise', () => {
    fc.assert(
      fc.property(testSet({ min: 150, max: 200 }), fc.integer({ min: 0, max: 1000 }), (s, seed) => {
        const c2 = compare(s, { resamples: 2000, seed });
        const c8 = compare(s, { resamples: 8000, seed: seed + 1 });
        expect(c8.delta).toBe(c2.delta); // the point estimate does not resample at all
        // a 2.5% quantile of 2,000 draws is off by ≈ 0.06 bootstrap SE; the midpoint by less
        expect(Math.abs((c2.lo + c2.hi) / 2 - (c8.lo + c8.hi) / 2)).toBeLessThan(0.3 * c8.se + 1e-12);
        expect(Math.abs(c2.se - c8.se)).toBeLessThan(0.15 * c8.se + 1e-12);
      }),
      { numRuns: 8 },
    );
  });

  it('is reproducible from its seed', () => {
    fc.assert(
      fc.property(testSet({ min: 2, max: 20 }), (s) => {
        expect(compare(s, { resamples: 100, seed: 5 })).toEqual(compare(s, { resamples: 100, seed: 5 }));
      }),
      { numRuns: 20 },
    );
  });

  it('several identical seeds give the one-seed result; seeds average their differences', () => {
    fc.assert(
      fc.property(testSet({ min: 1, max: 20 }), (s) => {
        const a = microF1Scored(s.truth, s.a);
        const b = microF1Scored(s.truth, s.b);
        const one = comparePaired(s.clusters, [{ a, b }], { resamples: 100 });
        const three = comparePaired(s.clusters, [{ a, b }, { a, b }, { a, b }], { resamples: 100 });
        expect(three.delta).toBeCloseTo(one.delta, 12);
        expect(three.lo).toBeCloseTo(one.lo, 12);
        expect(three.hi).toBeCloseTo(one.hi, 12);
        expect(three.seeds).toBe(3);
        expect(three.discordant).toEqual({ aOnly: 3 * one.discordant.aOnly, bOnly: 3 * one.discordant.bOnly });
        // seed 2 compares A with A: the mean difference halves
        const mixed = comparePaired(s.clusters, [{ a, b }, { a, b: a }], { resamples: 100 });
        expect(mixed.delta).toBeCloseTo(one.delta / 2, 12);
      }),
      { numRuns: 30 },
    );
  });

  it('rejects mismatched inputs with the reason', () => {
    const a = microF1Scored([0, 1], [0, 1]);
    expect(() => comparePaired(['q1'], [{ a, b: a }])).toThrow(/seed 0 model A has 6 counts, expected 1 samples × 3/);
    expect(() => comparePaired(['q1', 'q2'], [{ a, b: accuracyScored([1, 0]) }])).toThrow(/scored with micro-F1/);
    expect(() => pairedBootstrap({ metric: a.metric, clusters: ['q', 'q'], pairs: [{ a: a.counts, b: a.counts }] }, { resamples: 0 })).toThrow(/resamples/);
  });
});

describe("one model's metric with its query-bootstrap interval", () => {
  it('matches a hand-computed case and the whole-set metric', () => {
    // two one-sample queries, one right: F1 ½; resampled F1 ∈ {0: ¼, ½: ½, 1: ¼}
    const m = metricBootstrap({ metric: MICRO_F1, clusters: ['q1', 'q2'], seeds: [microF1Scored([0, 1], [0, 2]).counts] }, { resamples: 4000 });
    expect([m.value, m.lo, m.hi]).toEqual([0.5, 0, 1]);
    fc.assert(
      fc.property(testSet({ min: 1, max: 30 }), (s) => {
        const a = microF1Scored(s.truth, s.a);
        const r = metricBootstrap({ metric: a.metric, clusters: s.clusters, seeds: [a.counts] }, { resamples: 200 });
        expect(r.value).toBeCloseTo(metricValue(a), 12);
        expect(r.lo).toBeLessThanOrEqual(r.hi);
        expect(r.lo).toBeGreaterThanOrEqual(0);
        expect(r.hi).toBeLessThanOrEqual(1);
        // all right: nothing to resample away
        const perfect = metricBootstrap({ metric: a.metric, clusters: s.clusters, seeds: [microF1Scored(s.truth, s.truth).counts] }, { resamples: 50 });
        expect([perfect.value, perfect.lo, perfect.hi]).toEqual([1, 1, 1]);
      }),
      { numRuns: 40 },
    );
  });
});

describe('verdict', () => {
  it('comes from the interval alone', () => {
    expect(verdictOf(0.001, 0.02)).toBe('helps');
    expect(verdictOf(-0.02, -0.001)).toBe('hurts');
    expect(verdictOf(-0.01, 0.02)).toBe('no detectable effect');
    expect(verdictOf(0, 0.1)).toBe('no detectable effect'); // touching 0 is not above it
    expect(verdictOf(0, 0)).toBe('no detectable effect');
    expect(() => verdictOf(0.2, 0.1)).toThrow(/not an interval/);
  });
  it('is formatted with the interval and p-value', () => {
    const c = compare({ clusters: ['q1', 'q2'], truth: [0, 0], a: [1, 0], b: [0, 0] }, { resamples: 2000 });
    expect(formatComparison(c)).toBe('+0.5000 [+0.0000, +1.0000], p = 1.000: no detectable effect');
  });
});
