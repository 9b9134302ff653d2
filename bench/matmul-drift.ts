// How the 1024³ product's share of the FMA ceiling follows the machine: samples over time of the
// default matmul (bench/matmul-default.ts, the row `npm run bench` compares), the FMA ceiling and the
// copy ceiling, each sample their interleaved rounds (bench/measure.ts measureGroup), then the
// correlation of the product's time with each ceiling across samples. On a shared virtual machine
// the FMA ceiling (registers only) hardly moves while the memory system does, and the product moves
// with it; this shows how far one run's share can be trusted.
//   npx tsx bench/matmul-drift.ts [--samples 12] [--reps 5] [--size 1024] [--json FILE]
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import * as E from '../engine/index.ts';
import { gpuSync } from '../engine/device.ts';
import { suite as ceilings } from './ceilings.ts';
import { suite as matmulDefault } from './matmul-default.ts';
import { scriptFlags } from './flags.ts';
import { correlation, measureGroup } from './measure.ts';

const { opt, posInt } = scriptFlags('matmul-drift', process.argv.slice(2), ['samples', 'reps', 'size', 'json']);
const samples = posInt('samples', '12');
const reps = posInt('reps', '5');
const size = posInt('size', '1024');
const json = opt('json', '');

const load0 = loadavg();
await E.initEngine();
const adapter = gpuSync().info.adapter;
console.log(`adapter: ${adapter}; load average ${load0.map((x) => x.toFixed(2)).join(' ')}`);
const ours = matmulDefault.cases({ smoke: false, size }).find((c) => c.shape.startsWith(`${size}x${size}x${size}`));
if (!ours) throw new Error(`matmul-drift: no default matmul case at ${size}³`);
const ceil = ceilings.cases({ smoke: false });
const mopts = { warmup: 2, reps, adapter, ceilings: { gflops: null, gbps: null } };
const rows: { t: string; ms: number; cpuMs: number | null; relErr: number; share: number | null; fma: number | null; copy: number | null }[] = [];
console.log('time      | matmul ms | adapter CPU ms | share of FMA | FMA GFLOP/s | copy GB/s');
for (let s = 0; s < samples; s++) {
  const { records, ceilings: caps } = await measureGroup([ours], mopts, ceil);
  const r = records[0]!;
  if (r.note) throw new Error(`matmul-drift: sample ${s + 1}: ${r.note}`);
  const row = { t: new Date().toISOString().slice(11, 19), ms: r.median_ms, cpuMs: r.cpu_ms ?? null, relErr: r.rel_err, share: r.ceiling_share ?? null, fma: caps.gflops, copy: caps.gbps };
  rows.push(row);
  const f = (x: number | null, d: number) => (x === null ? 'n/a' : x.toFixed(d));
  console.log(`${row.t} | ${f(row.ms, 1)} | ${f(row.cpuMs, 1)} | ${row.share === null ? 'n/a' : (100 * row.share).toFixed(1) + '%'} | ${f(row.fma, 1)} | ${f(row.copy, 1)}`);
}
const ms = rows.map((r) => r.ms);
const both = rows.filter((r) => r.fma !== null && r.copy !== null);
const range = (xs: number[]) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;
console.log(`matmul ${range(ms)} ms; FMA ${range(both.map((r) => r.fma!))} GFLOP/s; copy ${range(both.map((r) => r.copy!))} GB/s`);
if (both.length >= 3) {
  const t = both.map((r) => r.ms);
  console.log(`correlation of the matmul's time with the FMA ceiling ${correlation(t, both.map((r) => r.fma!)).toFixed(2)}, with the copy ceiling ${correlation(t, both.map((r) => r.copy!)).toFixed(2)}`);
}
if (json) {
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(json, JSON.stringify({ date: new Date().toISOString(), adapter, load: load0, size, reps, samples: rows }, null, 2));
}
await E.shutdownGpu();
