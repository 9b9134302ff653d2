// Effect of Dawn toggles: `npx tsx bench/toggles.ts [--toggles a,b] [--kernel K,…] [--shape S,…] [--reps N] [--rounds N]`.
// Toggles are fixed when the device is created, so each configuration is its own bench/run.ts
// process (same cases, same autotune cache), alternating default/toggles for `rounds` rounds so
// drift on a shared host hits both; per row the median over rounds of wall ms and GPU ms, and the
// default configuration's spread over rounds (max/min) as the noise floor a speed-up must beat.
// Defaults: disable_robustness and
// skip_validation on matmul 512³ (every variant), softmax 4096×1024 (with the peers), and the
// tiny full-fine-tuning step (≈1000 small dispatches, where per-dispatch validation would show).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './measure.ts';
import type { BenchRecord } from './types.ts';

const DEFAULTS = {
  toggles: 'disable_robustness,skip_validation',
  kernel: 'matmul,softmax,train_step',
  shape: '512x512x512,4096x1024,tiny B16xT64xV3000 full',
  reps: '5',
  rounds: '2',
};

function parse(argv: string[]): typeof DEFAULTS {
  const a = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!.replace(/^--/, '') as keyof typeof DEFAULTS;
    if (argv[i] === '--') continue;
    if (!(k in a) || argv[i + 1] === undefined) throw new Error(`bench/toggles: unknown flag or missing value: ${argv[i]} (flags: --toggles --kernel --shape --reps --rounds)`);
    a[k] = argv[++i]!;
  }
  return a;
}

function runBench(a: typeof DEFAULTS, json: string, toggles: string | null): BenchRecord[] {
  const args = ['--import', 'tsx', 'bench/run.ts', '--kernel', a.kernel, '--shape', a.shape, '--reps', a.reps, '--json', json];
  if (toggles) args.push('--toggles', toggles);
  console.error(`bench/toggles: ${toggles ? `with ${toggles}` : 'without toggles'} …`);
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'], env: process.env });
  if (r.status !== 0) throw new Error(`bench/run.ts ${toggles ? `--toggles ${toggles}` : ''} exited with ${r.status ?? r.signal}`);
  return readFileSync(json, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as BenchRecord);
}

const f = (x: number | null | undefined, d = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));

function medianOf(xs: number[]): number {
  const fin = xs.filter(Number.isFinite);
  return fin.length === 0 ? NaN : median(fin);
}

interface Row {
  rec: BenchRecord;
  ms: number[];
  gpu: number[];
}

/** Joins the rounds of one configuration row by row: (kernel, shape, system, occurrence) — two suites may measure the same triple. */
function collect(rounds: BenchRecord[][]): Map<string, Row> {
  const out = new Map<string, Row>();
  for (const recs of rounds) {
    const seen = new Map<string, number>();
    for (const r of recs) {
      const base = `${r.kernel}\u0000${r.shape}\u0000${r.system}`;
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      const k = `${base}\u0000${n}`;
      const row = out.get(k) ?? { rec: r, ms: [], gpu: [] };
      row.ms.push(r.median_ms);
      if (r.gpu_ms) row.gpu.push(r.gpu_ms);
      if (r.note) row.rec = r;
      out.set(k, row);
    }
  }
  return out;
}

export function compareTable(off: BenchRecord[][], on: BenchRecord[][]): string {
  const a = collect(off);
  const b = collect(on);
  const head = '| kernel | shape | system | ms default | ms toggles | speed-up | noise (default max/min) | GPU ms default | GPU ms toggles | GPU speed-up | note |';
  const sep = '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|';
  const body = [...a].map(([k, x]) => {
    const y = b.get(k);
    const [ma, mb] = [medianOf(x.ms), y ? medianOf(y.ms) : NaN];
    const [ga, gb] = [medianOf(x.gpu), y ? medianOf(y.gpu) : NaN];
    const noise = x.ms.length > 1 ? `${(Math.max(...x.ms) / Math.min(...x.ms)).toFixed(2)}×` : '—';
    const ratio = (p: number, q: number) => (Number.isFinite(p / q) ? `${(p / q).toFixed(2)}×` : '—');
    const note = [x.rec.note, y?.rec.note].filter(Boolean).join('; ') || (y ? '' : 'not in the toggles run');
    const r = x.rec;
    return `| ${r.kernel} | ${r.shape} | ${r.system} | ${f(ma)} | ${f(mb)} | ${ratio(ma, mb)} | ${noise} | ${f(ga)} | ${f(gb)} | ${ratio(ga, gb)} | ${note} |`;
  });
  return [head, sep, ...body].join('\n');
}

function main(): void {
  const a = parse(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'csrm-toggles-'));
  try {
    const rounds = Number(a.rounds);
    if (!(rounds >= 1)) throw new Error('bench/toggles: --rounds must be ≥ 1');
    const off: BenchRecord[][] = [];
    const on: BenchRecord[][] = [];
    for (let i = 0; i < rounds; i++) {
      off.push(runBench(a, join(dir, `off${i}.jsonl`), null));
      on.push(runBench(a, join(dir, `on${i}.jsonl`), a.toggles));
    }
    console.log(`## Dawn toggles: ${a.toggles} (speed-up = default / toggles, > 1 means the toggles help; ${rounds} rounds, medians)\n`);
    console.log(compareTable(off, on));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
