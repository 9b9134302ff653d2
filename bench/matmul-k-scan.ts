// Why the SFT step's short-K products sit further below the FMA ceiling than 1024³: the product's
// time at fixed M × N as K grows, fitted as t(K) = a + b·K (least squares over K ≥ 16). `a` is what a
// product costs whatever its K (the dispatch inside a pass, the workers' wake-up, the tile's set-up
// and write-out), `b·K` the multiply-adds; the share a / t(K) at the step's K (64 for the
// projections, 176 for the down projection) is what no inner-loop change can buy back — only fewer,
// larger products (fusion, batching) can. Beside it, an empty dispatch's time in the same kind of
// pass, and the FMA ceiling measured in the same process.
// Times are device time (timestamp pairs around whole passes, bench/measure.ts's span), `reps`
// products of one shape in one pass, as a training step encodes them; best of `rounds` rounds; the
// adapter threads' CPU time beside it. Each shape's output is checked against float64 (sampled rows).
//   npx tsx bench/matmul-k-scan.ts [--mn 1024x64,1024x176,1024x32] [--ks 4,8,16,32,64,128,176,256,512] [--reps 20] [--rounds 5] [--json FILE]
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import * as E from '../engine/index.ts';
import { gpuSync } from '../engine/device.ts';
import { matmulRaw } from '../engine/ops/matmul.ts';
import { matmulRef } from '../engine/reference/matmul.ts';
import { beginGpuSpan, endGpuSpan, launch } from '../engine/runtime.ts';
import { threadCpu } from '../engine/thread-cpu.ts';
import { kernel } from '../kernels/kernel.ts';
import { measureCase } from './measure.ts';
import { sampleRows } from './reference.ts';
import { scriptFlags } from './flags.ts';
import { CEILINGS } from './suites.ts';

const { opt, posInt, posInts } = scriptFlags('matmul-k-scan', process.argv.slice(2), ['mn', 'ks', 'reps', 'rounds', 'json']);
const shapes = opt('mn', '1024x64,1024x176,1024x32').split(',').map((s) => {
  const m = /^(\d+)x(\d+)$/.exec(s);
  if (!m) throw new Error(`matmul-k-scan: --mn: "${s}" is not MxN`);
  return { M: Number(m[1]), N: Number(m[2]) };
});
const ks = posInts('ks', '4,8,16,32,64,128,176,256,512');
const reps = posInt('reps', '20');
const rounds = posInt('rounds', '5');
const json = opt('json', '');

const load0 = loadavg();
await E.initEngine();
const adapter = gpuSync().info.adapter;
console.log(`adapter: ${adapter}; load average ${load0.map((x) => x.toFixed(2)).join(' ')}`);
const cpuNow = () => threadCpu()?.otherMs ?? (process.cpuUsage().user + process.cpuUsage().system) / 1e3;

/** Best of `rounds`: device ms and adapter-thread CPU ms per call of `body`, `reps` calls per pass. */
async function timePerCall(body: () => void): Promise<{ ms: number; cpu: number }> {
  body();
  await E.sync();
  let ms = Infinity;
  let cpu = Infinity;
  for (let r = 0; r < rounds; r++) {
    const c0 = cpuNow();
    if (!beginGpuSpan()) throw new Error('matmul-k-scan: this adapter has no timestamp queries (or CSRM_TIME_KERNELS is set): device time cannot be read');
    for (let i = 0; i < reps; i++) body();
    const span = await endGpuSpan();
    if (span === null) throw new Error('matmul-k-scan: the span overflowed its timestamp slots; lower --reps');
    ms = Math.min(ms, span / reps);
    cpu = Math.min(cpu, (cpuNow() - c0) / reps);
  }
  return { ms, cpu };
}

const fmaCase = (await CEILINGS.load()).suite.cases({ smoke: false }).find((c) => c.ceiling === 'compute')!;
async function fmaCeiling(): Promise<number> {
  const r = await measureCase(fmaCase, { warmup: 2, reps: 5, adapter, ceilings: { gflops: null, gbps: null } });
  if (r.note || !r.gflops) throw new Error(`matmul-k-scan: the FMA ceiling failed: ${r.note ?? 'no rate'}`);
  return r.gflops;
}
const ceil0 = await fmaCeiling();

// an empty dispatch (one vec4 written per invocation, 2 and 128 workgroups of 8): the fixed cost of a dispatch in a pass
const empty = kernel('k_scan_empty', /* wgsl */ `struct P { n: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> y: array<vec4<f32>>;
@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) l: u32) {
  y[wid.x * 8u + l] = vec4<f32>(f32(l));
}`, ['rw']);
const y = E.empty([128 * 8 * 4]);
const dispatch: Record<string, { us: number; cpu_us: number }> = {};
for (const w of [2, 128]) {
  const t = await timePerCall(() => launch(empty, [y], [w, 1, 1], [0], 'k_scan_empty'));
  dispatch[`${w} workgroups`] = { us: 1e3 * t.ms, cpu_us: 1e3 * t.cpu };
  console.log(`empty dispatch, ${w} workgroups of 8: ${(1e3 * t.ms).toFixed(1)} µs device, ${(1e3 * t.cpu).toFixed(1)} µs adapter CPU`);
}
y.dispose();

interface Point { K: number; us: number; cpu_us: number; gflops: number; rel_err: number }
interface Fit { a_us: number; b_us_per_k: number }
const fit = (pts: Point[], key: 'us' | 'cpu_us'): Fit => {
  const p = pts.filter((q) => q.K >= 16);
  const n = p.length;
  const mx = p.reduce((s, q) => s + q.K, 0) / n;
  const my = p.reduce((s, q) => s + q[key], 0) / n;
  const b = p.reduce((s, q) => s + (q.K - mx) * (q[key] - my), 0) / p.reduce((s, q) => s + (q.K - mx) ** 2, 0);
  return { a_us: my - b * mx, b_us_per_k: b };
};
const results: { M: number; N: number; points: Point[]; device: Fit; cpu: Fit }[] = [];
for (const { M, N } of shapes) {
  const points: Point[] = [];
  for (const K of ks) {
    const a = E.randn([M, K], { seed: 1 });
    const b = E.randn([N, K], { seed: 2 }); // x·Wᵀ, the forward's layout (NT)
    const c = matmulRaw(a, b, false, true);
    const [A, B, C] = [await E.read(a), await E.read(b), await E.read(c)];
    c.dispose();
    const rows = sampleRows(M, 16);
    const aRows = new Float64Array(rows.length * K);
    rows.forEach((m, i) => aRows.set(A.subarray(m * K, (m + 1) * K), i * K));
    const ref = matmulRef(aRows, B, 1, rows.length, N, K, false, true, 0, 0);
    const got = new Float64Array(rows.length * N);
    rows.forEach((m, i) => got.set(C.subarray(m * N, (m + 1) * N), i * N));
    const t = await timePerCall(() => matmulRaw(a, b, false, true).dispose());
    points.push({ K, us: 1e3 * t.ms, cpu_us: 1e3 * t.cpu, gflops: (2 * M * N * K) / t.ms / 1e6, rel_err: E.relErr(got, ref) });
    a.dispose();
    b.dispose();
  }
  const r = { M, N, points, device: fit(points, 'us'), cpu: fit(points, 'cpu_us') };
  results.push(r);
  console.log(`\n${M}×${N}×K (NT): t(K) ≈ ${r.device.a_us.toFixed(0)} µs + ${r.device.b_us_per_k.toFixed(2)} µs·K device; ${r.cpu.a_us.toFixed(0)} µs + ${r.cpu.b_us_per_k.toFixed(2)} µs·K adapter CPU`);
  for (const p of points) {
    const share = r.device.a_us / (r.device.a_us + r.device.b_us_per_k * p.K);
    console.log(`  K ${String(p.K).padStart(4)}: ${p.us.toFixed(0).padStart(6)} µs ${p.gflops.toFixed(1).padStart(5)} GFLOP/s (${((100 * p.gflops) / ceil0).toFixed(0)}% of FMA), CPU ${p.cpu_us.toFixed(0)} µs; fixed share of the fit ${(100 * share).toFixed(0)}%; rel err ${p.rel_err.toExponential(1)}`);
  }
}
const ceil1 = await fmaCeiling();
const ceiling = Math.max(ceil0, ceil1);
console.log(`\nFMA ceiling ${ceil0.toFixed(1)} before, ${ceil1.toFixed(1)} after (GFLOP/s); load average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log('\n| M×N | fixed a (µs) | per K b (µs) | K 64: time, GFLOP/s, share of FMA, fixed share | K 176 | K 512 |');
console.log('|---|---:|---:|---|---|---|');
for (const r of results) {
  const at = (K: number) => {
    const p = r.points.find((q) => q.K === K);
    if (!p) return '—';
    return `${p.us.toFixed(0)} µs, ${p.gflops.toFixed(1)} (${((100 * p.gflops) / ceiling).toFixed(0)}%), ${((100 * r.device.a_us) / (r.device.a_us + r.device.b_us_per_k * K)).toFixed(0)}%`;
  };
  console.log(`| ${r.M}×${r.N} | ${r.device.a_us.toFixed(0)} | ${r.device.b_us_per_k.toFixed(2)} | ${at(64)} | ${at(176)} | ${at(512)} |`);
}
if (json) {
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(json, JSON.stringify({ date: new Date().toISOString(), adapter, load: load0, fma_ceiling: { before: ceil0, after: ceil1 }, reps, rounds, dispatch, results }, null, 2));
}
await E.shutdownGpu();
