// bench/losses.ts at smoke sizes: every case sets up, runs, matches its float64 reference, frees.
import { expect, it } from 'vitest';
import { liveBytes, sync } from '../../../engine/index.ts';
import { suite } from '../../../bench/losses.ts';

it('every loss benchmark case runs at smoke size and matches the reference', async () => {
  const cases = suite.cases({ smoke: true });
  expect(cases.length).toBeGreaterThanOrEqual(9);
  await sync();
  const before = liveBytes();
  for (const c of cases) {
    const inst = await c.setup();
    await inst.run();
    expect(await inst.relErr(), `${c.kernel} ${c.shape} ${c.system}`).toBeLessThan(1e-4);
    await inst.dispose();
  }
  await sync();
  expect(liveBytes()).toBe(before);
});
