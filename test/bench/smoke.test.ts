// CI smoke: every benchmark (ceilings, ours, peers) runs at its tiny size with one repetition and
// must match its float64 reference within the case's tolerance (bench/ sets each suite's), and our
// cases must free what they allocate. No timing assertions. Only a peer whose package is absent
// here is skipped, with the reason in the test name; a suite that fails to load is a failure.
import { describe, expect, it } from 'vitest';
import { getGpu } from '../../engine/device.ts';
import { liveBytes } from '../../engine/pool.ts';
import { sync } from '../../engine/runtime.ts';
import { measureCase } from '../../bench/measure.ts';
import { jaxUnavailable } from '../../bench/peers/jax.ts';
import { ortUnavailable } from '../../bench/peers/ort.ts';
import { ortWebUnavailable } from '../../bench/peers/ort-webgpu.ts';
import { tfjsUnavailable } from '../../bench/peers/tfjs.ts';
import { CEILINGS, SUITES } from '../../bench/suites.ts';
import { copyBindingLimit, SAME_SIZE_COPY, sameSizeCopyCase } from '../../bench/ceilings.ts';
import type { BenchCase } from '../../bench/types.ts';

const g = await getGpu();
const peerReason: Record<string, () => Promise<string | null>> = {
  'tfjs-webgpu': tfjsUnavailable,
  'jax-js-webgpu': jaxUnavailable,
  'onnxruntime-cpu': ortUnavailable,
  'onnxruntime-webgpu': ortWebUnavailable,
  // the matrix-unit ceiling runs only where the probe found working subgroup matrices (not lavapipe)
  'mma-ceiling': async () => (g.info.subgroupMatrix?.syntax ? null : 'the adapter lists no working subgroup matrices (cooperative matrix)'),
};

interface Loaded {
  name: string;
  kind: 'ours' | 'peer';
  skip: string | null;
  cases(): Promise<BenchCase[]>;
}
const loaded: Loaded[] = [];
for (const s of [CEILINGS, ...SUITES]) {
  const skip = (await peerReason[s.name]?.()) ?? null;
  loaded.push({ name: s.name, kind: s.kind, skip, cases: async () => (await s.load()).suite.cases({ smoke: true }) });
}

const opts = { warmup: 0, reps: 1, adapter: g.info.adapter, ceilings: { gflops: 1, gbps: 1 } };

describe('benchmark smoke (tiny sizes, 1 repetition, checked against float64)', () => {
  for (const s of loaded) {
    it.skipIf(s.skip !== null)(`${s.name}${s.skip ? ` — SKIPPED: ${s.skip}` : ''}`, async () => {
      const cases = await s.cases(); // a load error fails this test
      expect(cases.length).toBeGreaterThan(0);
      for (const c of cases) {
        await sync();
        const before = liveBytes();
        const r = await measureCase(c, opts);
        const label = `${r.kernel} ${r.shape} ${r.system}`;
        expect(r.note, label).toBeUndefined();
        expect(r.rel_err, label).toBeLessThanOrEqual(c.tolerance ?? 1e-4);
        expect(r.median_ms, label).toBeGreaterThan(0);
        await sync();
        if (s.kind === 'ours') expect(liveBytes(), `${label} leaked GPU memory`).toBe(before);
      }
    });
  }

  it('the same-size copy beside a bandwidth row: the row\'s bytes in whole vec4s, exact, freed', async () => {
    const bytes = 8 * 1037 + 12; // not a whole number of vec4 reads and writes
    const c = sameSizeCopyCase('where', '7x5', bytes)!;
    expect(sameSizeCopyCase('adamw_step', 'huge', 2 * copyBindingLimit() + 32)).toBeNull(); // more than one binding holds
    expect(c.system).toBe(SAME_SIZE_COPY);
    expect(c.bytes! % 32).toBe(0);
    expect(Math.abs(c.bytes! - bytes)).toBeLessThanOrEqual(16);
    await sync();
    const before = liveBytes();
    const r = await measureCase(c, opts);
    expect(r.note).toBeUndefined();
    expect(r.rel_err).toBe(0);
    await sync();
    expect(liveBytes()).toBe(before);
  });
});
