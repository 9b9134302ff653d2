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

/** Pearson correlation of two series of equal length (≥ 2); NaN where either is constant. */
export function correlation(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length || x.length < 2) throw new Error(`correlation: series of ${x.length} and ${y.length} values (equal lengths ≥ 2 needed)`);
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
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
  /** Skips the float64 check of every row but the ceilings' (rel_err stays unset, the row says so):
   * for rows whose host reference takes minutes, e.g. the base preset's training step on a lent GPU. */
  noRef?: boolean;
}

/** Sets a case up, times it, checks it against float64, frees it; errors become a note. */
export async function measureCase(c: BenchCase, o: MeasureOpts): Promise<BenchRecord> {
  return (await measureGroup([c], o)).records[0]!;
}

interface Prepared {
  c: BenchCase;
  inst: BenchInstance;
  relErr: number;
  peak: number | null;
  peakLater: (() => number | null) | null;
  gpu: boolean; // device time from timestamp spans (ours on the adapter); off after a span fails
  samples: number[];
  gpuMs: number[];
  cpuMs: number[];
  jsMs: number[];
}

const recordBase = (c: BenchCase, o: MeasureOpts): BenchRecord => ({
  kernel: c.kernel,
  shape: c.shape,
  system: c.system,
  median_ms: NaN,
  gflops: null,
  gbps: null,
  rel_err: NaN,
  peak_bytes: null,
  adapter: c.onCpu ? `host CPU (${hostCpu()})` : o.adapter,
  host: hostCpu(),
  ceiling_share: null,
});

/** The host's CPU model and core count: a CPU adapter's ceilings follow it (the same kind of VM has run on
 * AMD EPYC and Intel Xeon hosts, with FMA ceilings 55–94 GFLOP/s), so every record names it. */
export function hostCpu(): string {
  return `${cpus()[0]?.model?.trim() ?? 'unknown CPU'} ×${cpus().length}`;
}

const failed = (c: BenchCase, o: MeasureOpts, e: unknown): BenchRecord => ({ ...recordBase(c, o), note: `failed: ${String((e as Error)?.message ?? e).split('\n')[0]}` });

// the same-size copy (bench/ceilings.ts) runs our copy kernel on the engine's pool
const ownsPool = (c: BenchCase) => c.system === 'ours' || c.system.startsWith('ours:') || c.system === 'ceiling' || c.system === 'same-size copy';

/** Set-up and warm-up of one case, and its peak bytes over them (the warm-up runs are the timed work). */
async function prepare(c: BenchCase, o: MeasureOpts): Promise<Prepared> {
  await sync();
  const live0 = liveBytes();
  resetPeak();
  const inst = await c.setup();
  try {
    for (let i = 0; i < o.warmup; i++) await inst.run();
    await sync();
    const peak = () => inst.peakBytes ?? (ownsPool(c) ? peakBytes() - live0 : null);
    // without a warm-up (the smoke test: one case, one run) the peak is read after the timed run;
    // device time only where the work is ours: peers run on devices of their own
    return { c, inst, relErr: NaN, peak: o.warmup > 0 ? peak() : null, peakLater: o.warmup > 0 ? null : peak, gpu: ownsPool(c) && !c.onCpu, samples: [], gpuMs: [], cpuMs: [], jsMs: [] };
  } catch (e) {
    await inst.dispose();
    throw e;
  }
}

/** One timed repetition of a prepared case. */
async function timeOnce(p: Prepared): Promise<void> {
  const spanning = p.gpu && beginGpuSpan();
  const c0 = threadCpu();
  const t0 = performance.now();
  await p.inst.run();
  p.samples.push(performance.now() - t0);
  const c1 = threadCpu();
  if (c0 && c1) {
    p.cpuMs.push(c1.otherMs - c0.otherMs);
    p.jsMs.push(c1.jsMs - c0.jsMs);
  }
  if (spanning) {
    const ms = await endGpuSpan();
    if (ms === null) p.gpu = false;
    else p.gpuMs.push(ms);
  } else p.gpu = false;
}

/**
 * Measures the cases of one (kernel, shape) — ours and the peers — in interleaved rounds: every
 * case is set up and warmed first, then each round times every case once, in turn, each case's
 * median is over its rounds, and each is checked against float64 after them. On a CPU adapter the
 * machine's speed drifts by up to 2× between minutes (README, Benchmarks); timed one after another,
 * two systems would see different machines, while in rounds the drift falls on all of them alike. `ceilings` (the FMA and
 * copy ceiling cases) join the rounds when given: each is then the best round of this group, and the
 * group's shares of the ceiling use it instead of `o.ceilings` (returned as `ceilings`).
 */
export async function measureGroup(cases: readonly BenchCase[], o: MeasureOpts, ceilings: readonly BenchCase[] = []): Promise<{ records: BenchRecord[]; ceilings: Ceilings }> {
  const all = [...ceilings, ...cases];
  const prepared: (Prepared | BenchRecord)[] = [];
  const insts: BenchInstance[] = [];
  try {
    for (const c of all) {
      try {
        const p = await prepare(c, o);
        insts.push(p.inst);
        prepared.push(p);
      } catch (e) {
        prepared.push(failed(c, o, e));
      }
    }
    const live = prepared.filter((p): p is Prepared => 'inst' in p);
    for (let r = 0; r < Math.max(1, o.reps); r++) {
      for (const p of live) {
        if (p.samples.length < r) continue; // a case whose run threw is out of the rounds
        try {
          await timeOnce(p);
        } catch (e) {
          prepared[prepared.indexOf(p)] = failed(p.c, o, e);
        }
      }
    }
    // the float64 check of each case's last output, after the rounds
    for (const p of live) {
      const i = prepared.indexOf(p);
      if (i < 0) continue; // it failed in the rounds
      try {
        if (!o.noRef || p.c.system === 'ceiling') p.relErr = await p.inst.relErr();
        await sync();
        if (p.peakLater) p.peak = p.peakLater();
      } catch (e) {
        prepared[i] = failed(p.c, o, e);
      }
    }
    const caps: Ceilings = { ...o.ceilings };
    const records = prepared.map((p) => ('inst' in p ? record(p, o) : p));
    ceilings.forEach((c, i) => {
      const r = records[i]!;
      if (r.note) return;
      if (c.ceiling === 'compute') [caps.gflops, caps.gflopsCpu] = [r.gflops, r.per_cpu_s ?? null];
      else [caps.gbps, caps.gbpsCpu] = [r.gbps, r.per_cpu_s ?? null];
    });
    const out = ceilings.length === 0 ? records : prepared.slice(ceilings.length).map((p) => ('inst' in p ? record(p, { ...o, ceilings: caps }) : p));
    return { records: out, ceilings: caps };
  } finally {
    for (const inst of insts) {
      try {
        await inst.dispose();
      } catch {
        /* a failing dispose must not hide the measurement */
      }
    }
  }
}

/** A prepared case's timings as a record: rates at the median (a ceiling at its best repetition), shares of `o.ceilings`. */
function record(p: Prepared, o: MeasureOpts): BenchRecord {
  const { c } = p;
  const t: Timing = {
    median_ms: median(p.samples),
    min_ms: Math.min(...p.samples),
    samples: p.samples,
    gpu_ms: p.gpu && p.gpuMs.length > 0 ? median(p.gpuMs) : null,
    cpu_ms: p.cpuMs.length === p.samples.length ? median(p.cpuMs) : null,
    cpu_min_ms: p.cpuMs.length === p.samples.length ? Math.min(...p.cpuMs) : null,
  };
  const rec: BenchRecord = { ...recordBase(c, o), median_ms: t.median_ms, gpu_ms: t.gpu_ms, cpu_ms: t.cpu_ms, rel_err: p.relErr };
  // the JS thread's CPU per repetition (encoding, autograd, waiting): what bounds a fast GPU's wall time
  if (p.jsMs.length === p.samples.length && p.jsMs.length > 0) rec.js_ms = median(p.jsMs);
  // a ceiling is the best the adapter did (fastest repetition); every other rate uses the median
  const ms = c.system === 'ceiling' ? t.min_ms : t.median_ms;
  if (c.flops) rec.gflops = c.flops / (ms * 1e6);
  if (c.bytes) rec.gbps = c.bytes / (ms * 1e6);
  rec.peak_bytes = p.peak;
  if (p.inst.requiredBytes !== undefined) rec.required_bytes = p.inst.requiredBytes;
  if (p.inst.variant !== undefined) rec.variant = p.inst.variant;
  if (p.inst.dispatches !== undefined) rec.dispatches = p.inst.dispatches;
  if (c.items) {
    rec.throughput = c.items.count / (t.median_ms / 1000);
    rec.throughput_unit = `${c.items.unit}/s`;
  }
  const cap = c.ceiling === 'compute' ? o.ceilings.gflops : o.ceilings.gbps;
  const got = c.ceiling === 'compute' ? rec.gflops : rec.gbps;
  if (!c.onCpu && cap && got !== null) {
    rec.ceiling_share = got / cap;
    if (c.system !== 'ceiling') rec.ceiling_rate = cap;
  }
  // the same rates per second of adapter CPU (a ceiling's is its best repetition, like its wall rate)
  const cpuMs = c.system === 'ceiling' ? t.cpu_min_ms : t.cpu_ms;
  const work = c.ceiling === 'compute' ? c.flops : c.bytes;
  if (cpuMs && work) {
    rec.per_cpu_s = work / (cpuMs * 1e6);
    const capCpu = c.ceiling === 'compute' ? o.ceilings.gflopsCpu : o.ceilings.gbpsCpu;
    if (!c.onCpu && capCpu) rec.cpu_ceiling_share = rec.per_cpu_s / capCpu;
  }
  const tol = c.tolerance ?? 1e-4;
  if (o.noRef && c.system !== 'ceiling') rec.note = 'float64 check skipped (--no-ref)';
  else if (!(p.relErr <= tol)) rec.note = `rel err ${p.relErr.toExponential(2)} above tolerance ${tol}`;
  return rec;
}
