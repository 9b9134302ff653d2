// The op benchmark suites of this family still run and match the float64 reference at smoke sizes.
import { expect, it } from 'vitest';
import { liveBytes } from '../../engine/index.ts';
import type { BenchSuite } from '../../bench/types.ts';
import { suite as matmul } from '../../bench/matmul.ts';
import { suite as softmax } from '../../bench/softmax.ts';
import { suite as shape } from '../../bench/shape.ts';
import { suite as where } from '../../bench/where.ts';
import { suite as gather } from '../../bench/gather.ts';

for (const s of [matmul, softmax, shape, where, gather] as BenchSuite[]) {
  it(`bench suite ${s.name}: smoke cases run, match the reference and free their memory`, async () => {
    const before = liveBytes();
    const cases = s.cases({ smoke: true });
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) {
      const inst = await c.setup();
      await inst.run();
      expect(await inst.relErr(), `${c.kernel} ${c.shape} ${c.system}`).toBeLessThan(1e-5);
      await inst.dispose();
    }
    expect(liveBytes()).toBe(before);
  });
}
