// The RQA benchmarks still run and agree with their references at smoke sizes.
import { describe, expect, it } from 'vitest';
import { suite as bm25 } from '../../../bench/bm25.ts';
import { suite as knn } from '../../../bench/knn.ts';

describe('RQA bench suites (smoke)', () => {
  for (const s of [bm25, knn]) {
    for (const c of s.cases({ smoke: true })) {
      it(`${c.kernel} ${c.system} ${c.shape}`, async () => {
        const inst = await c.setup();
        await inst.run();
        expect(await inst.relErr()).toBeLessThan(c.kernel.startsWith('bm25') ? 1e-12 : 1e-5);
        await inst.dispose();
      });
    }
  }
});
