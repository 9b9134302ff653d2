// Every matmul variant on the matmul shapes of one SFT training step of a Llama preset (forward NT,
// input gradient NN, weight gradient TN, as modelMatmuls in bench/e2e-model.ts lists them), from GPU
// timestamps, against the FMA ceiling measured in the same process before and after them (the better
// of the two; bench/ceilings.ts, as bench/run.ts measures it). Variants are interleaved shape by shape and the best of `rounds` rounds counts,
// so a loaded machine disturbs the comparison less. Beside the timestamp time, the CPU time of the
// adapter's threads (lavapipe's workers live in this process; bench/measure.ts reads the ceiling's
// the same way): on a shared, loaded machine the steadier measure of kernel cost.
// The matmul autotuner (engine/ops/matmul.ts tuneMatmul) tunes the step's buckets first; each row
// says the bucket, the tuner's pick and the kernel that pick really runs at that shape.
//   CSRM_TIME_KERNELS=1 npx tsx bench/matmul-shapes.ts [--preset tiny|small] [--batch 16] [--seq 64] [--vocab 3000]
//     [--variants register,broadcast,broadcast32,generic,tiled] [--reps 2] [--rounds 3] [--only LM] [--json FILE]
// Rows = batch·seq token rows (bench/train-step.ts: 16 × 64); the LM head runs on batch·(seq − 1)
// rows (every position but the last carries a loss), the relevance label head on `batch` rows × 3.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import * as E from '../engine/index.ts';
import { gpuSync } from '../engine/device.ts';
import { matmulRaw } from '../engine/ops/matmul.ts';
import { matmulRef } from '../engine/reference/matmul.ts';
import { threadCpu } from '../engine/thread-cpu.ts';
import { makeConfig, PRESETS } from '../models/llama-config.ts';
import { modelMatmuls, type StepMatmul } from './e2e-model.ts';
import { measureCase } from './measure.ts';
import { sampleRows } from './reference.ts';
import { scriptFlags } from './flags.ts';
import { CEILINGS } from './suites.ts';

const { opt, posInt } = scriptFlags('matmul-shapes', process.argv.slice(2), ['preset', 'batch', 'seq', 'vocab', 'variants', 'reps', 'rounds', 'only', 'json']);
const preset = opt('preset', 'small');
if (!(preset in PRESETS)) throw new Error(`matmul-shapes: unknown --preset ${preset} (known: ${Object.keys(PRESETS).join(', ')})`);
const B = posInt('batch', '16');
const T = posInt('seq', '64');
const V = posInt('vocab', '3000');
const reps = posInt('reps', '2');
const rounds = posInt('rounds', '3');
const variants = opt('variants', 'register,broadcast,broadcast32,generic,tiled').split(',') as E.MatmulVariant[];
for (const v of variants) if (!E.MATMUL_VARIANTS.includes(v)) throw new Error(`matmul-shapes: unknown variant ${v} (one of ${E.MATMUL_VARIANTS.join(', ')})`);
const only = opt('only', '');
const jsonPath = opt('json', '');
if (process.env.CSRM_TIME_KERNELS !== '1') throw new Error('run with CSRM_TIME_KERNELS=1');

const config = makeConfig(preset, V);
const heads = [
  { name: 'LM head', rows: B * (T - 1), cols: V },
  { name: 'label head', rows: B, cols: 3 },
];
const SQUARE: StepMatmul = { label: 'square 1024³', M: 1024, N: 1024, K: 1024, transA: false, transB: false, count: 0 };
let shapes = [...modelMatmuls(config, B * T, heads, true), SQUARE];
if (only) shapes = shapes.filter((s) => s.label.includes(only));

const load0 = loadavg();
await E.initEngine();
const adapter = gpuSync().info.adapter;
console.log(`adapter: ${adapter}`);
console.log(`preset ${preset} (dim ${config.dim}, ${config.nLayers} layers, ffn ${config.ffnDim}), rows ${B}×${T} = ${B * T}, V ${V}; load average ${load0.map((x) => x.toFixed(2)).join(' ')}`);

// the FMA ceiling of this process and adapter (best repetition, wall and adapter-thread CPU), measured
// before and after the matmuls: the better of the two counts, so a busy moment does not lower it
const fmaCase = (await CEILINGS.load()).suite.cases({ smoke: false }).find((c) => c.ceiling === 'compute')!;
async function fmaCeiling(when: string): Promise<{ gflops: number; cpu: number | null }> {
  const r = await measureCase(fmaCase, { warmup: 2, reps: 5, adapter, ceilings: { gflops: null, gbps: null } });
  if (r.note || !r.gflops) throw new Error(`matmul-shapes: the FMA ceiling failed: ${r.note ?? 'no rate'}`);
  console.log(`FMA ceiling ${when} (${r.shape}): ${r.gflops.toFixed(1)} GFLOP/s${r.per_cpu_s ? `, ${r.per_cpu_s.toFixed(1)} GFLOP/cpu-s` : ''}`);
  return { gflops: r.gflops, cpu: r.per_cpu_s ?? null };
}
const ceilStart = await fmaCeiling('before');

const dims = (s: StepMatmul) => ({ batch: 1, M: s.M, N: s.N, K: s.K });
const tuned = await E.tuneMatmul(shapes.map(dims));
E.setMatmulVariant(null);

const tot = () => E.kernelTimes().find((k) => k.op === 'matmul')?.totalMs ?? 0;
const cpuNow = (): number => {
  const t = threadCpu();
  if (t) return t.otherMs;
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e3;
};

/** ‖C − C64‖/‖C‖ on sampled rows of op(A)·op(B), C64 from the engine's float64 reference. */
function relErrRows(s: StepMatmul, A: Float32Array, Bm: Float32Array, C: Float32Array): number {
  const rows = sampleRows(s.M, 32);
  const aRows = new Float64Array(rows.length * s.K);
  rows.forEach((m, i) => {
    for (let k = 0; k < s.K; k++) aRows[i * s.K + k] = s.transA ? A[k * s.M + m]! : A[m * s.K + k]!;
  });
  const ref = matmulRef(aRows, Bm, 1, rows.length, s.N, s.K, false, s.transB, 0, 0);
  const got = new Float64Array(rows.length * s.N);
  rows.forEach((m, i) => {
    for (let n = 0; n < s.N; n++) got[i * s.N + n] = C[m * s.N + n]!;
  });
  return E.relErr(got, ref);
}

interface Cell {
  ran: E.MatmulVariant;
  ms: number;
  cpu_ms: number;
  gflops: number;
  share: number;
  gflops_cpu: number;
  share_cpu: number | null;
  rel_err: number;
}
interface Row extends StepMatmul {
  bucket: string;
  tuned: E.MatmulVariant;
  tunedRuns: E.MatmulVariant;
  cells: Partial<Record<E.MatmulVariant, Cell>>;
}
const rows: Row[] = [];
const pct = (x: number | null) => (x === null ? '—' : `${(100 * x).toFixed(0)}%`);
for (const s of shapes) {
  const a = E.randn(s.transA ? [s.K, s.M] : [s.M, s.K], { seed: 1 });
  const b = E.randn(s.transB ? [s.N, s.K] : [s.K, s.N], { seed: 2 });
  const [A, Bm] = [(await E.read(a)) as Float32Array, (await E.read(b)) as Float32Array];
  const best = new Map<E.MatmulVariant, { ms: number; cpu: number }>();
  const errs = new Map<E.MatmulVariant, number>();
  for (let round = 0; round < rounds; round++) {
    for (const v of variants) {
      E.setMatmulVariant(v);
      if (round === 0) {
        const c = matmulRaw(a, b, s.transA, s.transB); // warm-up (compiles), and the float64 check
        errs.set(v, relErrRows(s, A, Bm, (await E.read(c)) as Float32Array));
        c.dispose();
      }
      await E.sync();
      const t0 = tot();
      const c0 = cpuNow();
      for (let r = 0; r < reps; r++) matmulRaw(a, b, s.transA, s.transB).dispose();
      await E.sync();
      const ms = (tot() - t0) / reps;
      const cpu = (cpuNow() - c0) / reps;
      const was = best.get(v);
      best.set(v, { ms: Math.min(was?.ms ?? Infinity, ms), cpu: Math.min(was?.cpu ?? Infinity, cpu) });
    }
  }
  E.setMatmulVariant(null);
  const d = dims(s);
  const fl = 2 * s.M * s.N * s.K;
  const row: Row = { ...s, bucket: E.matmulBucket(d), tuned: tuned.get(E.matmulBucket(d))!, tunedRuns: E.matmulVariantRun(d, s.transA, s.transB), cells: {} };
  for (const v of variants) {
    E.setMatmulVariant(v);
    const ran = E.matmulVariantRun(d, s.transA, s.transB);
    const { ms, cpu } = best.get(v)!;
    const gflops = fl / ms / 1e6;
    const gflopsCpu = fl / cpu / 1e6;
    row.cells[v] = { ran, ms, cpu_ms: cpu, gflops, share: NaN, gflops_cpu: gflopsCpu, share_cpu: null, rel_err: errs.get(v)! }; // shares once the ceiling is final
  }
  E.setMatmulVariant(null);
  rows.push(row);
  const cells = variants.map((v) => {
    const c = row.cells[v]!;
    const name = c.ran === v ? v : `${v}→${c.ran}`;
    return `${name}: ${c.ms.toFixed(2).padStart(7)} ms ${c.gflops.toFixed(2).padStart(6)} GF/s, cpu ${c.cpu_ms.toFixed(1).padStart(6)} ms ${c.gflops_cpu.toFixed(2).padStart(6)} GF/cpu-s, err ${c.rel_err.toExponential(1)}`;
  });
  console.log(`${s.label.padEnd(22)} ×${s.count} ${(s.transA ? 'T' : 'N') + (s.transB ? 'T' : 'N')} M=${String(s.M).padStart(4)} N=${String(s.N).padStart(4)} K=${String(s.K).padStart(4)} [${row.bucket} → ${row.tuned}${row.tunedRuns !== row.tuned ? `, runs ${row.tunedRuns}` : ''}] | ${cells.join(' | ')}`);
  a.dispose();
  b.dispose();
}

const ceilEnd = await fmaCeiling('after');
const ceil = { gflops: Math.max(ceilStart.gflops, ceilEnd.gflops), cpu: ceilStart.cpu && ceilEnd.cpu ? Math.max(ceilStart.cpu, ceilEnd.cpu) : null };
console.log(`FMA ceiling (the better of the two): ${ceil.gflops.toFixed(1)} GFLOP/s${ceil.cpu ? `, ${ceil.cpu.toFixed(1)} GFLOP/cpu-s` : ''}`);
for (const r of rows) {
  for (const c of Object.values(r.cells)) {
    c.share = c.gflops / ceil.gflops;
    c.share_cpu = ceil.cpu ? c.gflops_cpu / ceil.cpu : null;
  }
}

// a step's matmul time per variant and as tuned: every shape times its count; the LM step runs the
// LM head, the relevance step the label head
const stepOf = (head: string) => rows.filter((r) => r.count > 0 && (!heads.some((h) => r.label.includes(h.name)) || r.label.includes(head)));
const totals: Record<string, Record<string, { ms: number; cpu_ms: number; gflops: number; share: number; gflops_cpu: number; share_cpu: number | null }>> = {};
for (const h of heads) {
  if (!rows.some((r) => r.label.includes(h.name))) continue; // --only left this head out: no step to sum
  const step = stepOf(h.name);
  const fl = step.reduce((x, r) => x + r.count * 2 * r.M * r.N * r.K, 0);
  totals[h.name] = {};
  for (const v of [...variants, 'tuned'] as const) {
    const pick = (r: Row) => r.cells[v === 'tuned' ? r.tunedRuns : v];
    if (step.some((r) => !pick(r))) continue; // the tuned kernel of some shape was not measured
    const ms = step.reduce((x, r) => x + r.count * pick(r)!.ms, 0);
    const cpu = step.reduce((x, r) => x + r.count * pick(r)!.cpu_ms, 0);
    totals[h.name]![v] = { ms, cpu_ms: cpu, gflops: fl / ms / 1e6, share: fl / ms / 1e6 / ceil.gflops, gflops_cpu: fl / cpu / 1e6, share_cpu: ceil.cpu ? fl / cpu / 1e6 / ceil.cpu : null };
    const t = totals[h.name]![v]!;
    console.log(`step with the ${h.name}, ${v}: ${t.ms.toFixed(1)} ms ${t.gflops.toFixed(2)} GFLOP/s (${pct(t.share)} of FMA); cpu ${t.cpu_ms.toFixed(0)} ms ${t.gflops_cpu.toFixed(2)} GFLOP/cpu-s (${pct(t.share_cpu)})`);
  }
}
const load1 = loadavg();
console.log(`load average at the end ${load1.map((x) => x.toFixed(2)).join(' ')}`);

// markdown: one row per shape, each variant's GFLOP/s (share of the FMA ceiling) by timestamps / by adapter CPU
const cell = (c: Cell | undefined, v: E.MatmulVariant) =>
  c ? `${c.gflops.toFixed(1)} (${pct(c.share)}) / ${c.gflops_cpu.toFixed(1)} (${pct(c.share_cpu)})${c.ran !== v ? ` [${c.ran}]` : ''}` : '—';
const md = [
  `| product | op | M×N×K | ×/step | bucket → tuner pick | ${variants.join(' | ')} |`,
  `|---|---|---|---:|---|${variants.map(() => '---:').join('|')}|`,
  ...rows.map((r) => {
    const best = variants.reduce((x, v) => (r.cells[v]!.cpu_ms < r.cells[x]!.cpu_ms ? v : x), variants[0]!);
    const cs = variants.map((v) => (v === best ? `**${cell(r.cells[v], v)}**` : cell(r.cells[v], v)));
    return `| ${r.label.replace(/^(fwd|dX|dW) /, '')} | ${r.label.split(' ')[0]} ${(r.transA ? 'T' : 'N') + (r.transB ? 'T' : 'N')} | ${r.M}×${r.N}×${r.K} | ${r.count || '—'} | ${r.bucket} → ${r.tuned}${r.tunedRuns !== r.tuned ? ` (runs ${r.tunedRuns})` : ''} | ${cs.join(' | ')} |`;
  }),
];
console.log('\n' + md.join('\n'));

if (jsonPath) {
  mkdirSync(dirname(jsonPath), { recursive: true });
  const meta = { date: new Date().toISOString(), adapter, preset, B, T, V, reps, rounds, loadavg_start: load0, loadavg_end: load1, ceiling: { before: ceilStart, after: ceilEnd, gflops: ceil.gflops, gflops_cpu: ceil.cpu } };
  writeFileSync(jsonPath, JSON.stringify({ ...meta, rows, totals }, null, 1) + '\n');
  console.log(`wrote ${jsonPath}`);
}
await E.shutdownGpu();
