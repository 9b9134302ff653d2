import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { BehaviourRecord } from '../../../pipeline/data/schema.ts';
import { impressedByQuery, KD_SIZES, mergeCandidates, sampleKdPairs } from '../../../pipeline/online/kd-data.ts';

const log = (query_id: string, product_id: string, impressions: number, market = 'tw'): BehaviourRecord =>
  ({ market, query_id, query: `text of ${query_id}`, product_id, impressions, clicks: 0, purchases: 0 });

describe('KD candidate sampling (section 3.5)', () => {
  it('ranks impressed products by impressions, ties by product id, summing repeated rows', () => {
    const q = impressedByQuery([
      log('q1', 'b', 5), log('q1', 'a', 5), log('q1', 'c', 9), log('q1', 'd', 0), log('q1', 'e', 2), log('q1', 'e', 4),
      log('q0', 'x', 1),
    ]);
    expect(q.map((x) => x.query_id)).toEqual(['q0', 'q1']);
    // e: 2 + 4 = 6 sits between c (9) and the a/b tie; d was never impressed
    expect(q[1]!.impressed).toEqual(['c', 'e', 'a', 'b']);
  });

  it('merges M impressed first, then unseen EBR products up to M + N', () => {
    const m = mergeCandidates(['p1', 'p2', 'p3', 'p4'], ['p2', 'e1', 'p9', 'e1', 'p4', 'e2', 'e3'], { M: 3, N: 3 });
    // p4 is the 4th impressed product, beyond M, so it may come back through EBR
    expect(m.map((c) => c.product_id)).toEqual(['p1', 'p2', 'p3', 'e1', 'p9', 'p4']);
    expect(m.map((c) => c.source)).toEqual(['impressed', 'impressed', 'impressed', 'ebr', 'ebr', 'ebr']);
  });

  it('stops when the EBR list is exhausted, and fills from EBR when few products were impressed', () => {
    expect(mergeCandidates(['a'], ['a', 'b'], { M: 3, N: 5 }).map((c) => c.product_id)).toEqual(['a', 'b']);
    const few = mergeCandidates(['a'], ['e1', 'e2', 'e3', 'e4', 'e5'], { M: 3, N: 2 });
    expect(few.map((c) => c.product_id)).toEqual(['a', 'e1', 'e2', 'e3', 'e4']);
    expect(mergeCandidates([], [], KD_SIZES.paper)).toEqual([]);
  });

  it('uses the paper sizes M = 20, N = 100', () => {
    expect(KD_SIZES.paper).toEqual({ M: 20, N: 100 });
  });

  const arbLogs = fc.array(
    fc.record({
      q: fc.integer({ min: 0, max: 5 }),
      p: fc.integer({ min: 0, max: 30 }),
      n: fc.integer({ min: 0, max: 6 }),
      market: fc.constantFrom('kr', 'tw'),
    }),
    { maxLength: 120 },
  ).map((rows) => rows.map((r) => log(`q${r.q}`, `p${r.p}`, r.n, r.market)));
  // A deterministic retriever with overlaps and repeats: ranks products by a hash of query and id.
  const ebr = (query: string) => {
    const ids = Array.from({ length: 40 }, (_, i) => `p${(i * 7 + query.length * 3) % 35}`);
    return ids;
  };

  it('property: no duplicates, impressed first in order, M + N cap, deterministic and independent of log order', async () => {
    await fc.assert(
      fc.asyncProperty(arbLogs, fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 12 }), fc.integer(), async (logs, M, N, seed) => {
        const sizes = { M, N };
        const pairs = await sampleKdPairs(logs, ebr, sizes);
        const again = await sampleKdPairs(logs, ebr, sizes);
        expect(again).toEqual(pairs);
        // shuffling the log rows changes nothing
        const k = logs.length === 0 ? 0 : ((seed % logs.length) + logs.length) % logs.length;
        const shuffled = [...logs.slice(k), ...logs.slice(0, k)].reverse();
        expect(await sampleKdPairs(shuffled, ebr, sizes)).toEqual(pairs);
        for (const q of impressedByQuery(logs)) {
          const mine = pairs.filter((p) => p.market === q.market && p.query_id === q.query_id);
          const ids = mine.map((p) => p.product_id);
          expect(new Set(ids).size).toBe(ids.length);
          expect(ids.length).toBeLessThanOrEqual(M + N);
          const nImp = Math.min(M, q.impressed.length);
          expect(ids.slice(0, nImp)).toEqual(q.impressed.slice(0, nImp));
          expect(mine.slice(0, nImp).every((p) => p.source === 'impressed')).toBe(true);
          expect(mine.slice(nImp).every((p) => p.source === 'ebr')).toBe(true);
          // EBR part follows the retriever's order
          const ebrList = ebr(q.query);
          const pos = mine.slice(nImp).map((p) => ebrList.indexOf(p.product_id));
          expect(pos).toEqual([...pos].sort((a, b) => a - b));
          // and stops only at the cap or when the retriever has nothing new left
          const unseen = new Set(ebrList.filter((id) => !ids.includes(id)));
          if (ids.length < M + N) expect(unseen.size).toBe(0);
        }
      }),
      { numRuns: 150 },
    );
  });
});
