// The ratio lines of a run (bench/ratios.ts): wall and adapter-CPU verdicts from synthetic records.
import { expect, it } from 'vitest';
import { ratioLines, shareLines } from '../../bench/ratios.ts';
import type { BenchRecord } from '../../bench/types.ts';

const rec = (kernel: string, shape: string, system: string, ms: number, cpu: number | null, extra: Partial<BenchRecord> = {}): BenchRecord => ({
  kernel, shape, system, median_ms: ms, cpu_ms: cpu, gflops: null, gbps: null, rel_err: 0, peak_bytes: null, adapter: 'x', ceiling_share: null, ...extra,
});

it('speed-ups and the FMA share by wall and by adapter CPU time', () => {
  const rows = [
    rec('matmul', '1024x1024x1024', 'ours', 100, 150, { ceiling_share: 0.3, cpu_ceiling_share: 0.45 }),
    rec('matmul', '1024x1024x1024', 'tfjs-webgpu', 300, 700),
  ];
  const lines = ratioLines(rows);
  expect(lines).toContain('- matmul 1024x1024x1024: ours is 3.00× tfjs-webgpu (target ≥ 4×) NOT MET; by adapter CPU time 4.67× MET');
  expect(lines).toContain('- matmul 1024x1024x1024: ours at 30% of the FMA ceiling (target ≥ 40%) NOT MET; by adapter CPU time 45% MET');
  expect(lines.some((l) => /matmul 2048x256x768: ours vs .* not measured \(no ours row\)/.test(l))).toBe(true);
});

it('copy-ceiling shares, training MFU with dispatches, attention backward over forward', () => {
  const lines = shareLines([
    rec('softmax', '4096x1024', 'ours', 10, 12, { ceiling_share: 0.5, cpu_ceiling_share: 0.65 }),
    rec('train_step', 'tiny', 'ours', 100, 150, { ceiling_share: 0.2, cpu_ceiling_share: 0.3, dispatches: 125 }),
    rec('attention_fwd', 'S', 'ours', 10, 20),
    rec('attention_bwd', 'S', 'ours', 40, 50),
    rec('attention_bwd', 'S', 'ours:rows', 400, 500), // not the engine's choice: no line
    rec('add', '16', 'ours', 1, null, { ceiling_share: 0.7, note: 'failed: x' }), // failed rows say nothing
  ]);
  expect(lines).toEqual([
    '- softmax 4096x1024: 50% of the copy ceiling (target ≥ 60%) NOT MET; by adapter CPU time 65% MET',
    '- train_step tiny: MFU 20% (target ≥ 25%) NOT MET; by adapter CPU time 30% MET; 125 dispatches per step',
    '- attention S: backward 4.00× the forward (target ≤ 3×) NOT MET; by adapter CPU time 2.50× MET',
  ]);
});
