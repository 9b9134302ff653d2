// Autotuning per adapter: when an op has several correct variants whose speed depends on the
// adapter (register- vs shared-memory-tiled matmul, tile shapes, row-per-invocation vs
// row-per-workgroup reductions), it measures each once, keeps the fastest, and caches the choice
// with its timings on disk keyed by (adapter, op, shape bucket).
//
// How an op uses it (the op stays synchronous):
//   1. the op consults `tunedChoice(op, bucket)` on every call and falls back to its fixed default
//      when that is undefined (never tuned, or tuning disabled as in unit tests);
//   2. the op's owner exports an async tuner, e.g. `tuneMatmul(shapes)`, that builds one
//      `{name, run}` per variant (run = launch that variant on representative inputs + sync())
//      and calls `await autotune({op: 'matmul', bucket}, variants)`; the bench runner and the
//      training entry points call it once at start-up.
// Disabled by CSRM_AUTOTUNE=0 or setAutotune(false) (test/setup.ts does): the fixed choice is used.
// Cache: .bench-cache/autotune.json, or the file named by CSRM_AUTOTUNE_CACHE.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { gpuSync } from './device.ts';
import { engineSwitch } from './switches.ts';

export interface TuneKey {
  op: string;
  /** Shape class the choice holds for, e.g. 'M≥1024,N≥1024' or 'rows:4096,cols:1024'. */
  bucket: string;
}

export interface TuneVariant {
  name: string;
  /** One run that resolves only when its GPU work has completed (ends with sync() or a readback). */
  run(): Promise<void>;
}

export interface TuneOpts {
  warmup?: number; // untimed runs per variant (default 1: compiles the pipeline)
  reps?: number; // timed runs per variant; the median counts (default 3)
  /** Choice when tuning is disabled (default: the first variant). */
  fallback?: string;
  /** Measure again even when the cache has an entry. */
  force?: boolean;
  /** Keep the fallback unless another variant is faster by more than this share (default 0.05):
   * near-ties are timing noise, and flipping on them makes runs differ for nothing. */
  margin?: number;
}

export interface TuneEntry {
  adapter: string;
  op: string;
  bucket: string;
  choice: string;
  timings: Record<string, number>; // median ms per variant (FAILED_MS: it threw)
  /** Why a variant failed (a shader the driver rejects, a limit it exceeds): it is never chosen. */
  failed?: Record<string, string>;
  measuredAt: string;
}

/** The timing a variant that threw gets: finite so the cache file keeps it, slower than any real run. */
export const FAILED_MS = 1e300;

let enabled = engineSwitch('CSRM_AUTOTUNE') !== '0';
let loaded: { path: string; entries: TuneEntry[] } | null = null;

export function setAutotune(on: boolean): void {
  enabled = on;
}
export function autotuneEnabled(): boolean {
  return enabled;
}

export function autotuneCachePath(): string {
  return engineSwitch('CSRM_AUTOTUNE_CACHE') ?? '.bench-cache/autotune.json';
}

function entries(): TuneEntry[] {
  const path = autotuneCachePath();
  if (loaded && loaded.path === path) return loaded.entries;
  let list: TuneEntry[] = [];
  if (existsSync(path)) {
    try {
      const j = JSON.parse(readFileSync(path, 'utf8')) as { entries?: TuneEntry[] };
      list = Array.isArray(j.entries) ? j.entries : [];
    } catch {
      list = []; // a corrupt cache is re-measured, not fatal
    }
  }
  loaded = { path, entries: list };
  return list;
}

function save(): void {
  const path = autotuneCachePath();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({ version: 1, entries: entries() }, null, 1) + '\n');
}

function find(adapter: string, op: string, bucket: string): TuneEntry | undefined {
  return entries().find((e) => e.adapter === adapter && e.op === op && e.bucket === bucket);
}

/** The cached choice for (current adapter, op, bucket); undefined when untuned or tuning is off. */
export function tunedChoice(op: string, bucket: string): string | undefined {
  if (!enabled) return undefined;
  return find(gpuSync().info.adapter, op, bucket)?.choice;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * What a variant's run costs, in ms: on a CPU adapter (lavapipe, whose worker threads live in this
 * process) the process CPU time, which a loaded, shared machine disturbs far less than wall time
 * (wall times there swing ×2 between runs); elsewhere, wall time.
 */
function tuneClock(): () => number {
  if (!gpuSync().info.isSoftware) return () => performance.now();
  return () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e3;
  };
}

/**
 * The choice from measured times (ms, by name, in the variants' order): the fastest, except that the
 * fallback stays unless the fastest beats it by more than `margin` (a share, default 0.05).
 */
export function pickVariant(timings: Record<string, number>, fallback?: string, margin = 0.05): string {
  const names = Object.keys(timings);
  if (names.length === 0) throw new Error('pickVariant: no timings');
  const fastest = names.reduce((best, n) => (timings[n]! < timings[best]! ? n : best), names[0]!);
  return fallback !== undefined && timings[fallback]! <= timings[fastest]! * (1 + margin) ? fallback : fastest;
}

/** Chooses the fastest variant for this adapter and bucket (measuring on first use), returns its name. */
export async function autotune(key: TuneKey, variants: TuneVariant[], opts: TuneOpts = {}): Promise<string> {
  if (variants.length === 0) throw new Error(`autotune ${key.op}/${key.bucket}: no variants`);
  const names = variants.map((v) => v.name);
  if (new Set(names).size !== names.length) throw new Error(`autotune ${key.op}: duplicate variant names [${names.join(', ')}]`);
  if (opts.fallback !== undefined && !names.includes(opts.fallback)) {
    throw new Error(`autotune ${key.op}: fallback "${opts.fallback}" is not one of [${names.join(', ')}]`);
  }
  if (!enabled) return opts.fallback ?? names[0]!;
  const adapter = gpuSync().info.adapter;
  const hit = find(adapter, key.op, key.bucket);
  // an entry measured without one of today's variants is measured again
  if (hit && !opts.force && names.includes(hit.choice) && names.every((n) => n in hit.timings)) return hit.choice;
  const timings: Record<string, number> = {};
  const failed: Record<string, string> = {};
  const clock = tuneClock();
  for (const v of variants) {
    try {
      for (let i = 0; i < (opts.warmup ?? 1); i++) await v.run();
      const ts: number[] = [];
      for (let i = 0; i < Math.max(1, opts.reps ?? 3); i++) {
        const t0 = clock();
        await v.run();
        ts.push(clock() - t0);
      }
      timings[v.name] = median(ts);
    } catch (e) {
      // a variant this adapter cannot run (its shader rejected, a limit exceeded) loses; the others compete
      timings[v.name] = FAILED_MS;
      failed[v.name] = String((e as Error)?.message ?? e).split('\n')[0]!.slice(0, 300);
      console.warn(`autotune ${key.op} [${key.bucket}]: variant ${v.name} failed: ${failed[v.name]}`);
    }
  }
  if (Object.keys(failed).length === variants.length) throw new Error(`autotune ${key.op} [${key.bucket}]: every variant failed: ${JSON.stringify(failed)}`);
  const usable = opts.fallback !== undefined && !(opts.fallback in failed) ? opts.fallback : undefined;
  const choice = pickVariant(timings, usable, opts.margin);
  const list = entries();
  const entry: TuneEntry = { adapter, op: key.op, bucket: key.bucket, choice, timings, ...(Object.keys(failed).length > 0 ? { failed } : {}), measuredAt: new Date().toISOString() };
  const i = list.findIndex((e) => e.adapter === adapter && e.op === key.op && e.bucket === key.bucket);
  if (i >= 0) list[i] = entry;
  else list.push(entry);
  save();
  return choice;
}

/** Every cached entry (all adapters). */
export function autotuneEntries(): TuneEntry[] {
  return [...entries()];
}

/** The cache as a readable table: one line per (adapter, op, bucket) with each variant's median. */
export function printAutotune(): string {
  const list = entries();
  if (list.length === 0) return `autotune cache ${autotuneCachePath()}: empty`;
  const lines = [`autotune cache ${autotuneCachePath()}:`];
  for (const adapter of [...new Set(list.map((e) => e.adapter))]) {
    lines.push(`  ${adapter}`);
    for (const e of list.filter((x) => x.adapter === adapter)) {
      const ts = Object.entries(e.timings)
        .map(([n, ms]) => `${n}${n === e.choice ? '*' : ''} ${e.failed?.[n] !== undefined ? 'failed' : `${ms.toFixed(3)} ms`}`)
        .join(', ');
      lines.push(`    ${e.op} [${e.bucket}] → ${e.choice}   (${ts}; ${e.measuredAt})`);
    }
  }
  return lines.join('\n');
}

/** Forgets the in-memory copy (the next call rereads the file; tests switch cache paths). */
export function reloadAutotune(): void {
  loaded = null;
}
