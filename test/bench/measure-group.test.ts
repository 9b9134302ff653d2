// measureGroup (bench/measure.ts): the cases of one row are timed in interleaved rounds, the
// ceilings that join the rounds give the row its shares, and a case that fails leaves the others
// measured and every instance disposed. Fake cases: what is checked is the order and the arithmetic.
import { describe, expect, it } from 'vitest';
import { getGpu } from '../../engine/device.ts';
import { measureGroup } from '../../bench/measure.ts';
import type { BenchCase } from '../../bench/types.ts';

await getGpu();
const opts = { warmup: 1, reps: 4, adapter: 'fake', ceilings: { gflops: 1000, gbps: 1000 } };

function fake(system: string, log: string[], disposed: string[], o: { flops?: number; ceiling?: boolean; busyMs?: number; failRun?: number; failSetup?: boolean } = {}): BenchCase {
  return {
    kernel: 'k', shape: 's', system: o.ceiling ? 'ceiling' : system, ceiling: 'compute', flops: o.flops ?? 1e6,
    async setup() {
      if (o.failSetup) throw new Error(`${system} cannot set up`);
      let runs = 0;
      return {
        async run() {
          runs++;
          log.push(system);
          if (o.failRun !== undefined && runs === o.failRun) throw new Error(`${system} broke at run ${runs}`);
          const t = performance.now();
          while (performance.now() - t < (o.busyMs ?? 1)); // a repetition that takes time
        },
        async relErr() { log.push(`check ${system}`); return 0; },
        dispose() { disposed.push(system); },
      };
    },
  };
}

describe('measureGroup', () => {
  it('times the cases in rounds, after every warm-up', async () => {
    const log: string[] = [], disposed: string[] = [];
    const { records } = await measureGroup([fake('a', log, disposed), fake('b', log, disposed), fake('c', log, disposed)], opts);
    // warm-ups (one each) first, then four rounds of a, b, c, then the float64 checks of the last outputs
    expect(log).toEqual(['a', 'b', 'c', ...Array(4).fill(['a', 'b', 'c']).flat(), 'check a', 'check b', 'check c']);
    expect(records.map((r) => r.system)).toEqual(['a', 'b', 'c']);
    for (const r of records) expect(r.note).toBeUndefined();
    // every record names the host CPU, which a CPU adapter's speed follows
    for (const r of records) expect(r.host).toMatch(/ ×\d+$/);
    expect(disposed.sort()).toEqual(['a', 'b', 'c']);
  });

  it('gives the row the shares of the ceiling measured in its own rounds', async () => {
    const log: string[] = [], disposed: string[] = [];
    const { records, ceilings } = await measureGroup([fake('ours', log, disposed, { flops: 2e6, busyMs: 4 })], opts, [fake('fma', log, disposed, { ceiling: true, flops: 4e6, busyMs: 2 })]);
    expect(log).toEqual(['fma', 'ours', ...Array(4).fill(['fma', 'ours']).flat(), 'check fma', 'check ours']);
    // the group's ceiling replaces the run's (1000 GFLOP/s here), and the row says which it used
    expect(ceilings.gflops).not.toBe(1000);
    expect(ceilings.gflops).toBeLessThan(4e6 / (2 * 1e6) * 1.0001); // ≤ 2 GFLOP/s: its best repetition took ≥ 2 ms
    const [r] = records;
    expect(r!.ceiling_rate).toBe(ceilings.gflops);
    expect(r!.ceiling_share).toBeCloseTo(r!.gflops! / ceilings.gflops!, 12);
    expect(r!.ceiling_share).toBeGreaterThan(0); // its size follows the machine's load, so no bound on it here
    expect(records).toHaveLength(1); // the ceiling's own record is not a row
    expect(disposed.sort()).toEqual(['fma', 'ours']);
  });

  it('with noRef checks only the ceilings against float64, and the other rows say so', async () => {
    const log: string[] = [], disposed: string[] = [];
    const { records, ceilings } = await measureGroup([fake('ours', log, disposed)], { ...opts, noRef: true }, [fake('fma', log, disposed, { ceiling: true })]);
    expect(log.filter((x) => x.startsWith('check'))).toEqual(['check fma']);
    expect(ceilings.gflops).not.toBe(1000); // the ceiling still counts
    expect(records[0]!.note).toBe('float64 check skipped (--no-ref)');
    expect(Number.isNaN(records[0]!.rel_err)).toBe(true);
  });

  it('keeps measuring the others when a case fails, and disposes every instance', async () => {
    const log: string[] = [], disposed: string[] = [];
    const { records } = await measureGroup(
      [fake('a', log, disposed), fake('breaks', log, disposed, { failRun: 3 }), fake('absent', log, disposed, { failSetup: true }), fake('c', log, disposed)],
      opts,
    );
    const by = Object.fromEntries(records.map((r) => [r.system, r]));
    expect(records.map((r) => r.system)).toEqual(['a', 'breaks', 'absent', 'c']);
    expect(by.breaks!.note).toBe('failed: breaks broke at run 3'); // warm-up, round 1, then round 2 threw
    expect(by.absent!.note).toBe('failed: absent cannot set up');
    expect(by.a!.note).toBeUndefined();
    expect(by.c!.note).toBeUndefined();
    expect(log.filter((s) => s === 'breaks')).toHaveLength(3); // out of the rounds after it threw, and never checked
    expect(log.filter((s) => s === 'a')).toHaveLength(5);
    expect(disposed.sort()).toEqual(['a', 'breaks', 'c']);
  });
});

describe('correlation (bench/matmul-drift.ts)', () => {
  it('is ±1 for affine series, 0 for orthogonal ones, and rejects unequal lengths', async () => {
    const { correlation } = await import('../../bench/measure.ts');
    const x = [3.1, -0.4, 7.7, 2.2, 5.9];
    expect(correlation(x, x.map((v) => 2.5 * v + 1))).toBeCloseTo(1, 12);
    expect(correlation(x, x.map((v) => -0.3 * v + 4))).toBeCloseTo(-1, 12);
    expect(correlation([1, -1, 1, -1], [1, 1, -1, -1])).toBeCloseTo(0, 12);
    // against the textbook value of a small series: x = 1..5, y = (2, 4, 5, 4, 5): r = 0.7746
    expect(correlation([1, 2, 3, 4, 5], [2, 4, 5, 4, 5])).toBeCloseTo(0.7745967, 6);
    expect(() => correlation([1, 2], [1])).toThrow(/equal lengths/);
  });
});
