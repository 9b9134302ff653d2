// The toggles comparison joins rows of separate processes by (kernel, shape, system, occurrence).
import { expect, it } from 'vitest';
import { compareTable } from '../../bench/toggles.ts';
import type { BenchRecord } from '../../bench/types.ts';

const rec = (system: string, ms: number, gpu: number | null = null, note?: string): BenchRecord => ({
  kernel: 'matmul', shape: '8x8x8', system, median_ms: ms, gpu_ms: gpu, gflops: null, gbps: null, rel_err: 0, peak_bytes: null, adapter: 'a', ceiling_share: null, ...(note ? { note } : {}),
});

it('pairs repeated rows by occurrence and takes medians over rounds', () => {
  // two suites both measure ours:generic; the second occurrence must pair with the second
  const off = [[rec('ours:generic', 10, 8), rec('ours:generic', 40), rec('peer', 5)], [rec('ours:generic', 12, 9), rec('ours:generic', 44), rec('peer', 5)]];
  const on = [[rec('ours:generic', 5, 4), rec('ours:generic', 20), rec('peer', 5, null, 'failed: x')], [rec('ours:generic', 6, 5), rec('ours:generic', 22), rec('peer', 5)]];
  const lines = compareTable(off, on).split('\n').slice(2);
  expect(lines).toHaveLength(3);
  expect(lines[0]).toMatch(/\| ours:generic \| 11\.000 \| 5\.500 \| 2\.00× \| 1\.20× \| 8\.500 \| 4\.500 \| 1\.89× \|/);
  expect(lines[1]).toMatch(/\| ours:generic \| 42\.000 \| 21\.000 \| 2\.00× \|/);
  expect(lines[2]).toMatch(/failed: x/);
});
