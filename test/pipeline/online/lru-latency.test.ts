import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LruCache } from '../../../pipeline/online/lru.ts';
import { LatencyHistogram } from '../../../pipeline/online/latency.ts';

describe('query-embedding LRU cache', () => {
  it('evicts the least recently used entry and counts hits and misses', () => {
    const c = new LruCache<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    expect(c.get('a')).toBe(1); // a is now the most recent
    c.set('c', 3); // evicts b
    expect(c.get('b')).toBeUndefined();
    expect([c.has('a'), c.has('c'), c.size]).toEqual([true, true, 2]);
    expect([c.hits, c.misses, c.hitRate()]).toEqual([1, 1, 0.5]);
    const off = new LruCache<string, number>(0);
    off.set('a', 1);
    expect(off.get('a')).toBeUndefined();
  });

  it('property: agrees with a list-based model of LRU', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 8 }))), (cap, ops) => {
        const c = new LruCache<number, number>(cap);
        let model: number[] = []; // most recent last
        for (const [isSet, k] of ops) {
          if (isSet) {
            c.set(k, k * 10);
            model = [...model.filter((x) => x !== k), k].slice(-cap);
          } else {
            const v = c.get(k);
            expect(v).toBe(model.includes(k) ? k * 10 : undefined);
            if (model.includes(k)) model = [...model.filter((x) => x !== k), k];
          }
        }
        expect(c.size).toBe(model.length);
      }),
    );
  });
});

describe('latency histogram', () => {
  it('gives quantiles within one 5 % bucket of the exact ones', () => {
    const h = new LatencyHistogram();
    const xs = Array.from({ length: 1000 }, (_, i) => 0.5 + i * 0.1); // 0.5 … 100.4 ms
    for (const x of xs) h.record(x);
    const exact = (q: number) => xs[Math.ceil(q * xs.length) - 1]!;
    for (const q of [0.5, 0.99]) {
      expect(h.quantile(q)).toBeGreaterThanOrEqual(exact(q));
      expect(h.quantile(q)).toBeLessThanOrEqual(exact(q) * 1.05 + 1e-9);
    }
    expect(h.summary().count).toBe(1000);
    expect(new LatencyHistogram().quantile(0.5)).toBe(0);
  });
});
