// Timing one case: warm-up runs (compile, allocate), then `reps` timed runs, each ending with
// completed device work (the instance's run() resolves after a sync or readback); the median counts.
import { cpus } from 'node:os';
import { liveBytes, peakBytes, resetPeak } from '../engine/pool.ts';
import { beginGpuSpan, endGpuSpan, sync } from '../engine/runtime.ts';
import { threadCpu } from '../engine/thread-cpu.ts';
import type { BenchCase, BenchInstance, BenchRecord } from './types.ts';

export interface Timing {
  median_ms: number;
  min_ms: number;
  samples: number[];
  /** Median device time per repetition (timestamp queries), null when not measured. */
  gpu_ms: number | null;
  /** Median CPU time per repetition of the process's threads other than the JS one (on lavapipe the
   * adapter's workers, which run the kernels of ours and of every peer on Dawn; onnxruntime-cpu's
   * pool), null off Linux. Steadier than wall time when the machine is shared. */
  cpu_ms: number | null;
  cpu_min_ms: number | null;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Times warm-up + reps runs; with `gpu`, each timed run is also a GPU span (device time from
 * timestamp queries around its compute passes, a few queries per run). */
export async function timeInstance(inst: BenchInstance, opts: { warmup: number; reps: number; gpu?: boolean }): Promise<Timing> {
  for (let i = 0; i < opts.warmup; i++) await inst.run();
  const samples: number[] = [];
  const gpu: number[] = [];
  const cpu: number[] = [];
  let gpuOk = opts.gpu ?? false;
  for (let i = 0; i < Math.max(1, opts.reps); i++) {
    const spanning = gpuOk && beginGpuSpan();
    const c0 = threadCpu();
    const t0 = performance.now();
    await inst.run();
    samples.push(performance.now() - t0);
    const c1 = threadCpu();
    if (c0 && c1) cpu.push(c1.otherMs - c0.otherMs);
    if (spanning) {
      const ms = await endGpuSpan();
      if (ms === null) gpuOk = false;
      else gpu.push(ms);
    } else gpuOk = false;
  }
  const cpuOk = cpu.length === samples.length;
  return {
    median_ms: median(samples),
    min_ms: Math.min(...samples),
    samples,
    gpu_ms: gpuOk && gpu.length > 0 ? median(gpu) : null,
    cpu_ms: cpuOk ? median(cpu) : null,
    cpu_min_ms: cpuOk ? Math.min(...cpu) : null,
  };
}

export interface Ceilings {
  gflops: number | null; // FMA ceiling
  gbps: number | null; // copy ceiling
  /** The same per second of adapter-thread CPU time (GFLOP/cpu-s, GB/cpu-s). */
  gflopsCpu?: number | null;
  gbpsCpu?: number | null;
}

export interface MeasureOpts {
  warmup: number;
  reps: number;
  adapter: string;
  ceilings: Ceilings;
}

/** Sets a case up, times it, checks it against float64, frees it; errors become a note. */
export async function measureCase(c: BenchCase, o: MeasureOpts): Promise<BenchRecord> {
  const base: BenchRecord = {
    kernel: c.kernel,
    shape: c.shape,
    system: c.system,
    median_ms: NaN,
    gflops: null,
    gbps: null,
    rel_err: NaN,
    peak_bytes: null,
    adapter: c.onCpu ? `host CPU (${cpus()[0]?.model ?? 'unknown'} ×${cpus().length})` : o.adapter,
    ceiling_share: null,
  };
  const ownPool = c.system === 'ours' || c.system.startsWith('ours:') || c.system === 'ceiling';
  await sync();
  const live0 = liveBytes();
  resetPeak();
  let inst: BenchInstance | null = null;
  try {
    inst = await c.setup();
    // device time only where the work is ours: peers run on devices of their own
    const t = await timeInstance(inst, { ...o, gpu: ownPool && !c.onCpu });
    const relErr = await inst.relErr();
    await sync();
    const rec: BenchRecord = { ...base, shape: c.shape, median_ms: t.median_ms, gpu_ms: t.gpu_ms, cpu_ms: t.cpu_ms, rel_err: relErr };
    // a ceiling is the best the adapter did (fastest repetition); every other rate uses the median
    const ms = c.system === 'ceiling' ? t.min_ms : t.median_ms;
    if (c.flops) rec.gflops = c.flops / (ms * 1e6);
    if (c.bytes) rec.gbps = c.bytes / (ms * 1e6);
    rec.peak_bytes = inst.peakBytes ?? (ownPool ? peakBytes() - live0 : null);
    if (inst.requiredBytes !== undefined) rec.required_bytes = inst.requiredBytes;
    if (inst.variant !== undefined) rec.variant = inst.variant;
    if (inst.dispatches !== undefined) rec.dispatches = inst.dispatches;
    if (c.items) {
      rec.throughput = c.items.count / (t.median_ms / 1000);
      rec.throughput_unit = `${c.items.unit}/s`;
    }
    const cap = c.ceiling === 'compute' ? o.ceilings.gflops : o.ceilings.gbps;
    const got = c.ceiling === 'compute' ? rec.gflops : rec.gbps;
    if (!c.onCpu && cap && got !== null) rec.ceiling_share = got / cap;
    // the same rates per second of adapter CPU (a ceiling's is its best repetition, like its wall rate)
    const cpuMs = c.system === 'ceiling' ? t.cpu_min_ms : t.cpu_ms;
    const work = c.ceiling === 'compute' ? c.flops : c.bytes;
    if (cpuMs && work) {
      rec.per_cpu_s = work / (cpuMs * 1e6);
      const capCpu = c.ceiling === 'compute' ? o.ceilings.gflopsCpu : o.ceilings.gbpsCpu;
      if (!c.onCpu && capCpu) rec.cpu_ceiling_share = rec.per_cpu_s / capCpu;
    }
    const tol = c.tolerance ?? 1e-4;
    if (!(relErr <= tol)) rec.note = `rel err ${relErr.toExponential(2)} above tolerance ${tol}`;
    return rec;
  } catch (e) {
    return { ...base, shape: c.shape, note: `failed: ${String((e as Error)?.message ?? e).split('\n')[0]}` };
  } finally {
    try {
      await inst?.dispose();
    } catch {
      /* a failing dispose must not hide the measurement */
    }
  }
}
