// The fine-tuning learning-rate schedule (pipeline/train/sft.ts lrAt): linear warm-up, the peak held
// for a share of the remaining steps, cosine decay to 10% of the peak.
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { lrAt, type SftConfig } from '../../pipeline/train/sft.ts';

const cfg = (steps: number, warmup: number, lrHold?: number): SftConfig =>
  ({ steps, batchSize: 16, lr: 2e-3, warmup, weightDecay: 0.01, clip: 1, alpha: 1, mtRatio: 0, lmWeight: 0.1, evalEvery: 100, maxLen: 112, seed: 1, groupBatches: 8, ...(lrHold !== undefined ? { lrHold } : {}) });

it('without a hold: warm-up to the peak, then cosine to 10% (the schedule the committed runs were made with)', () => {
  const c = cfg(1000, 100);
  expect(lrAt(c, 0)).toBeCloseTo(2e-5, 12);
  expect(lrAt(c, 99)).toBeCloseTo(2e-3, 12);
  expect(lrAt(c, 100)).toBeCloseTo(2e-3, 12);
  expect(lrAt(c, 550)).toBeCloseTo(2e-3 * (0.1 + 0.9 * 0.5), 12); // half-way through the decay
  expect(lrAt(c, 1000)).toBeCloseTo(2e-4, 12);
  expect(lrAt(cfg(1000, 100, 0), 700)).toBe(lrAt(c, 700));
});

it('laws with a hold h: the peak until warm-up + h·(steps − warm-up), then non-increasing down to 10% at the end, never below it', () => {
  fc.assert(
    fc.property(fc.integer({ min: 10, max: 5000 }), fc.double({ min: 0, max: 0.5, noNaN: true }), fc.double({ min: 0, max: 0.95, noNaN: true }), (steps, wShare, h) => {
      const warmup = Math.floor(steps * wShare);
      const c = cfg(steps, warmup, h);
      const peakUntil = warmup + h * (steps - warmup);
      let prev = Infinity;
      for (let s = warmup; s <= steps; s++) {
        const lr = lrAt(c, s);
        if (s <= peakUntil) expect(lr).toBeCloseTo(2e-3, 12);
        expect(lr).toBeLessThanOrEqual(prev + 1e-15);
        expect(lr).toBeGreaterThanOrEqual(2e-4 - 1e-15);
        prev = lr;
      }
      expect(lrAt(c, steps)).toBeCloseTo(2e-4, 12);
    }),
    { numRuns: 60 },
  );
});
