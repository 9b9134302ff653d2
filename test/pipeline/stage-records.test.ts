// Which records each stage trains on: Stage 1 source only, Stage 2 source + target, the sparse
// target labels upsampled to a chosen share of Stage 2's stream.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RelevanceRecord } from '../../pipeline/data/schema.ts';
import { stageSteps, upsampleTarget } from '../../pipeline/stages/sft-stage.ts';
import { isTwin, twinQueryId } from '../../pipeline/stages/translated-twins.ts';

const rec = (market: string, i: number) => ({ market, query_id: `${market}-Q${i}`, product_id: `P${i}`, query: `q${i}` }) as RelevanceRecord;
const recs = (src: number, tgt: number) => [...Array.from({ length: src }, (_, i) => rec('KR', i)), ...Array.from({ length: tgt }, (_, i) => rec('TW', i))];

describe('upsampleTarget', () => {
  it('repeats target records to about the asked share, keeping every source record once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 50, max: 5000 }), fc.integer({ min: 5, max: 500 }), fc.double({ min: 0.05, max: 0.9, noNaN: true }), (src, tgt, share) => {
        const out = upsampleTarget(recs(src, tgt), 'TW', share);
        const nt = out.filter((r) => r.market === 'TW').length;
        expect(out.filter((r) => r.market === 'KR').length).toBe(src);
        expect(nt % tgt).toBe(0); // whole copies: every target record equally often
        const copies = nt / tgt;
        // the ideal (fractional) number of copies gives exactly `share`: k·tgt / (src + k·tgt) = share
        const ideal = (share * src) / ((1 - share) * tgt);
        if (ideal <= 1) expect(copies).toBe(1); // never below the natural share
        else expect(Math.abs(copies - ideal)).toBeLessThanOrEqual(0.5);
      }),
      { numRuns: 200 },
    );
  });

  it('is the identity without a share, without target records or without source records', () => {
    const r = recs(30, 3);
    expect(upsampleTarget(r, 'TW', undefined)).toBe(r);
    expect(upsampleTarget(recs(30, 0), 'TW', 0.5)).toHaveLength(30);
    expect(upsampleTarget(recs(0, 7), 'TW', 0.5)).toHaveLength(7);
  });

  it('refuses a share outside (0, 1)', () => {
    expect(() => upsampleTarget(recs(10, 2), 'TW', 1)).toThrow(/targetShare 1 outside/);
  });

  it('10% target labels at share 0.5 become half the stream', () => {
    const out = upsampleTarget(recs(12000, 1200), 'TW', 0.5);
    expect(out.filter((r) => r.market === 'TW').length).toBe(12000);
  });

  it('keeps translated twins (target-language source labels) once each, on the source side of the share', () => {
    const twins = Array.from({ length: 5000 }, (_, i) => ({ ...rec('TW', i), query_id: twinQueryId(`KR-Q${i}`, 'TW') }));
    const out = upsampleTarget([...recs(12000, 1200), ...twins], 'TW', 0.5);
    expect(out.filter(isTwin)).toHaveLength(5000);
    const labels = out.filter((r) => r.market === 'TW' && !isTwin(r)).length;
    expect(labels).toBe(1200 * Math.round(17000 / 1200)); // 14 copies: half of the stream
    expect(out.filter((r) => r.market === 'KR')).toHaveLength(12000);
  });

  it('with twinsSide "target", repeats the twins with the target labels, together about half of the stream', () => {
    const twins = Array.from({ length: 5000 }, (_, i) => ({ ...rec('TW', i), query_id: twinQueryId(`KR-Q${i}`, 'TW') }));
    const out = upsampleTarget([...recs(12000, 1200), ...twins], 'TW', 0.5, 'target');
    const copies = Math.round(12000 / 6200); // 2
    expect(out.filter(isTwin)).toHaveLength(5000 * copies);
    expect(out.filter((r) => r.market === 'TW' && !isTwin(r))).toHaveLength(1200 * copies);
    expect(out.filter((r) => r.market === 'KR')).toHaveLength(12000);
    // each record of the target side as many times as every other
    const n = new Map<string, number>();
    for (const r of out) if (r.market === 'TW') n.set(r.query_id + r.product_id, (n.get(r.query_id + r.product_id) ?? 0) + 1);
    expect(new Set(n.values())).toEqual(new Set([copies]));
    // "source" is the default
    expect(upsampleTarget([...recs(12000, 1200), ...twins], 'TW', 0.5)).toEqual(upsampleTarget([...recs(12000, 1200), ...twins], 'TW', 0.5, 'source'));
  });
});

describe('stageSteps', () => {
  it('a setting with MT gets as many relevance batches (in expectation) as without it, to half a step', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 5000 }), fc.double({ min: 0, max: 0.9, noNaN: true }), (steps, r) => {
      const withMt = stageSteps(steps, true, r);
      expect(Math.abs(withMt * (1 - r) - steps)).toBeLessThanOrEqual(0.5);
      expect(stageSteps(steps, false, r)).toBe(steps);
      expect(withMt).toBeGreaterThanOrEqual(steps);
    }));
    expect(stageSteps(1100, true, 0.25)).toBe(1467);
    expect(stageSteps(250, true, 0.25)).toBe(333);
    expect(stageSteps(250, true, 0)).toBe(250);
  });
});
