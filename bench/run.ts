// `npm run bench [-- --json FILE] [--kernel KERNEL-OR-SUITE[,…]] [--shape S[,S…]] [--size N] [--smoke] [--reps N] [--toggles a,b] [--autotune-only] [--no-ref]`
// Autotunes the kernel choices the selected cases depend on (not with --smoke; cached per adapter),
// measures the ceilings, then every suite in bench/suites.ts (ours and peers, same process, same
// adapter, same host inputs), prints a markdown table, the end-to-end table (throughput, MFU,
// memory) and the target ratios, and optionally writes one JSON record per measurement.
// --autotune-only stops after tuning and prints the autotune table. --no-ref skips the float64 checks
// (rows say so): for the base preset's training step on a GPU, whose host reference takes minutes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadavg } from 'node:os';
import { autotuneCachePath, printAutotune } from '../engine/autotune.ts';
import { clearInputs } from './inputs.ts';
import { hostCpu, measureCase, measureGroup, type Ceilings } from './measure.ts';
import { ratioLines } from './ratios.ts';
import { selectKernels } from './select.ts';
import { CEILINGS, SUITES } from './suites.ts';
import type { BenchCase, BenchOpts, BenchRecord } from './types.ts';

interface Args {
  json?: string;
  kernel?: string;
  shape?: string;
  size?: number;
  smoke: boolean;
  reps: number;
  toggles?: string;
  autotuneOnly: boolean;
  noRef: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { smoke: false, reps: 5, autotuneOnly: false, noRef: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`bench: ${k} needs a value`);
      return x;
    };
    if (k === '--json') a.json = v();
    else if (k === '--kernel') a.kernel = v();
    else if (k === '--shape') a.shape = v();
    else if (k === '--size') a.size = Number(v());
    else if (k === '--smoke') a.smoke = true;
    else if (k === '--reps') a.reps = Number(v());
    else if (k === '--toggles') a.toggles = v();
    else if (k === '--autotune-only') a.autotuneOnly = true;
    else if (k === '--no-ref') a.noRef = true;
    else if (k === '--') continue;
    else throw new Error(`bench: unknown flag ${k} (flags: --json FILE --kernel NAME --shape STR --size N --smoke --reps N --toggles a,b --autotune-only --no-ref)`);
  }
  if (!(a.reps >= 1)) throw new Error('bench: --reps must be ≥ 1');
  if (a.size !== undefined && !(a.size > 0)) throw new Error('bench: --size must be a positive number');
  return a;
}

const fmt = (x: number | null, d = 2) => (x === null || !Number.isFinite(x) ? '—' : x.toFixed(d));
const fmtBytes = (b: number | null) => (b === null ? '—' : b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`);

export function table(rows: BenchRecord[]): string {
  const head = '| kernel | shape | system | median ms | GPU ms | GFLOP/s | GB/s | % of ceiling | adapter CPU ms | % of ceiling (CPU) | rel err | peak bytes | note |';
  const sep = '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|';
  const body = rows.map(
    (r) =>
      `| ${r.kernel} | ${r.shape} | ${r.system}${r.variant ? ` [${r.variant}]` : ''} | ${fmt(r.median_ms, 3)} | ${fmt(r.gpu_ms ?? null, 3)} | ${fmt(r.gflops)} | ${fmt(r.gbps)} | ${
        r.ceiling_share === null ? (r.adapter.startsWith('host CPU') && !r.note ? 'n/a (CPU)' : '—') : `${(100 * r.ceiling_share).toFixed(1)}%${r.ceiling_rate ? ` of ${fmt(r.ceiling_rate, 1)}` : ''}${r.same_size_copy_share !== undefined ? ` (${(100 * r.same_size_copy_share).toFixed(0)}% of the same-size copy)` : ''}`
      } | ${fmt(r.cpu_ms ?? null, 1)} | ${r.cpu_ceiling_share === undefined ? '—' : `${(100 * r.cpu_ceiling_share).toFixed(1)}%`} | ${Number.isFinite(r.rel_err) ? r.rel_err.toExponential(1) : '—'} | ${fmtBytes(r.peak_bytes)} | ${r.note ?? ''} |`,
  );
  return [head, sep, ...body].join('\n');
}

/** End-to-end rows: items/s, MFU (share of the FMA ceiling at model FLOPs), and memory against what the work must hold. */
export function e2eTable(rows: BenchRecord[]): string | null {
  const e = rows.filter((r) => r.throughput !== undefined || r.required_bytes !== undefined);
  if (e.length === 0) return null;
  const head = '| kernel | shape | throughput | MFU | MFU (CPU) | dispatches | JS thread ms (µs per dispatch) | peak bytes | required bytes | peak / required |';
  const sep = '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|';
  const body = e.map((r) => {
    const ratio = r.peak_bytes !== null && r.required_bytes ? `${(r.peak_bytes / r.required_bytes).toFixed(2)}×` : '—';
    const thr = r.throughput !== undefined ? `${r.throughput.toFixed(r.throughput < 100 ? 1 : 0)} ${r.throughput_unit ?? ''}` : '—';
    const mfu = r.ceiling_share === null ? '—' : `${(100 * r.ceiling_share).toFixed(1)}%`;
    const mfuCpu = r.cpu_ceiling_share === undefined ? '—' : `${(100 * r.cpu_ceiling_share).toFixed(1)}%`;
    const js = r.js_ms === undefined ? '—' : `${r.js_ms.toFixed(1)}${r.dispatches ? ` (${((1000 * r.js_ms) / r.dispatches).toFixed(0)})` : ''}`;
    return `| ${r.kernel} | ${r.shape} | ${thr} | ${mfu} | ${mfuCpu} | ${r.dispatches ?? '—'} | ${js} | ${fmtBytes(r.peak_bytes)} | ${fmtBytes(r.required_bytes ?? null)} | ${ratio} |`;
  });
  return [head, sep, ...body].join('\n');
}

/** Tunes the kernel choices the cases declare (engine/autotune.ts caches them per adapter and bucket). */
async function tuneFor(cases: BenchCase[]): Promise<void> {
  const mm = cases.flatMap((c) => c.tune?.matmul ?? []);
  const mh = cases.flatMap((c) => c.tune?.matmulF16 ?? []);
  const sm = cases.flatMap((c) => c.tune?.softmax ?? []);
  const at = cases.flatMap((c) => c.tune?.attention ?? []);
  if (mm.length === 0 && mh.length === 0 && sm.length === 0 && at.length === 0) return;
  const { tuneAttention, tuneMatmul, tuneMatmulF16, tuneSoftmax } = await import('../engine/index.ts');
  const t0 = performance.now();
  const a = await tuneMatmul(mm);
  const h = await tuneMatmulF16(mh);
  const b = await tuneSoftmax(sm);
  const c = await tuneAttention(at);
  console.error(`autotune: ${a.size} matmul, ${h.size} f16 matmul, ${b.size} softmax and ${c.size} attention buckets ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (cache ${autotuneCachePath()})`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  // Dawn toggles must be in the environment before the device is created (engine/device.ts).
  if (args.toggles) process.env.CSRM_DAWN_TOGGLES = args.toggles;
  // GPU ms at full precision: Dawn quantises timestamps by default (a browser fingerprinting guard)
  process.env.CSRM_DAWN_DISABLE_TOGGLES ??= 'timestamp_quantization';
  const { getGpu, shutdownGpu } = await import('../engine/device.ts');
  const g = await getGpu();
  const adapter = g.info.adapter + (args.toggles ? ` [toggles: ${args.toggles}]` : '');
  console.log(`adapter: ${adapter}`);
  console.log(`host: ${hostCpu()}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const opts: BenchOpts = { smoke: args.smoke, size: args.size };
  const mopts = { warmup: args.smoke ? 1 : 2, reps: args.reps, adapter, ceilings: { gflops: null, gbps: null } as Ceilings, noRef: args.noRef };
  const rows: BenchRecord[] = [];
  const note = (kernel: string, system: string, why: string): BenchRecord => ({
    kernel, shape: '—', system, median_ms: NaN, gflops: null, gbps: null, rel_err: NaN, peak_bytes: null, adapter, host: hostCpu(), ceiling_share: null, note: why,
  });

  const cases: BenchCase[] = [];
  const unavailable: BenchRecord[] = []; // listed after the ceilings
  const loaded: { name: string; cases: BenchCase[] | null; why?: string }[] = [];
  for (const s of SUITES) {
    try {
      loaded.push({ name: s.name, cases: (await s.load()).suite.cases(opts) });
    } catch (e) {
      loaded.push({ name: s.name, cases: null, why: String((e as Error)?.message ?? e).split('\n')[0] });
    }
  }
  const sel = args.kernel ? selectKernels(args.kernel, loaded.map((l) => ({ name: l.name, kernels: l.cases && [...new Set(l.cases.map((c) => c.kernel))] }))) : null;
  for (const l of loaded) {
    if (l.cases) cases.push(...l.cases.filter((c) => (!sel || sel.kernels.has(c.kernel)) && (!args.shape || args.shape.split(',').includes(c.shape))));
    else if (!sel || sel.unavailable.includes(l.name)) unavailable.push(note(l.name, l.name, `suite unavailable: ${l.why}`));
  }

  // tune before anything is timed, so every row runs the kernels the adapter is fastest with
  if (!args.smoke || args.autotuneOnly) await tuneFor(cases);
  if (args.autotuneOnly) {
    console.log(printAutotune());
    await shutdownGpu();
    process.exit(0);
  }

  // ceilings first: every later row is a share of them (not filtered by --kernel/--size)
  const { sameSizeCopyCase, SAME_SIZE_COPY } = await import('./ceilings.ts');
  const ceil = (await CEILINGS.load()).suite.cases({ smoke: args.smoke });
  for (const c of ceil) {
    const r = await measureCase(c, mopts);
    rows.push(r);
    if (c.ceiling === 'compute' && !r.note) [mopts.ceilings.gflops, mopts.ceilings.gflopsCpu] = [r.gflops, r.per_cpu_s ?? null];
    if (c.ceiling === 'bandwidth' && !r.note) [mopts.ceilings.gbps, mopts.ceilings.gbpsCpu] = [r.gbps, r.per_cpu_s ?? null];
    console.error(`  ${r.kernel} ${r.shape}: ${fmt(r.median_ms, 3)} ms ${r.note ?? ''}`);
  }

  rows.push(...unavailable);

  // group by kernel and shape so peers run right beside ours on the same host inputs
  const order = [...new Set(cases.map((c) => `${c.kernel}\u0000${c.shape}`))];
  // and in interleaved rounds with the ceilings they are shares of (measureGroup: a drifting machine
  // then slows every system of a row and its ceiling alike)
  for (const key of order) {
    const group = cases.filter((x) => `${x.kernel}\u0000${x.shape}` === key);
    // a bandwidth row of ours gets the copy kernel at its own bytes beside it: what its size allows
    const moved = group.find((c) => c.ceiling === 'bandwidth' && c.bytes && (c.system === 'ours' || c.system.startsWith('ours:')));
    const same = moved && sameSizeCopyCase(moved.kernel, moved.shape, moved.bytes!);
    // right after ours in every round: a peer's runtime may still be busy after its run (onnxruntime's
    // threads), and the copy is ours' reference, not theirs
    if (same) group.splice(group.indexOf(moved!) + 1, 0, same);
    const kinds = new Set(group.map((c) => c.ceiling));
    const { records, ceilings } = await measureGroup(group, mopts, args.smoke ? [] : ceil.filter((c) => kinds.has(c.ceiling)));
    const rates = [kinds.has('compute') && ceilings.gflops ? `FMA ${fmt(ceilings.gflops, 1)} GFLOP/s` : '', kinds.has('bandwidth') && ceilings.gbps ? `copy ${fmt(ceilings.gbps, 1)} GB/s` : ''].filter(Boolean).join(', ');
    const copy = records.find((r) => r.system === SAME_SIZE_COPY && !r.note && r.gbps);
    for (const r of records) {
      if (copy && r !== copy && r.gbps !== null && !r.note) r.same_size_copy_share = r.gbps / copy.gbps!;
      rows.push(r);
      // the progress line carries the row's rates: a run stopped at a time limit still leaves them in the log
      console.error(`  ${r.kernel} ${r.shape} ${r.system}: ${fmt(r.median_ms, 3)} ms (GPU ${fmt(r.gpu_ms ?? null, 3)} ms; ${fmt(r.gflops)} GFLOP/s; ${fmt(r.gbps)} GB/s) ${r.note ?? ''}`);
    }
    if (rates && !args.smoke) console.error(`    (ceilings in these rounds: ${rates})`);
    clearInputs(); // host inputs of this shape are no longer needed
  }

  console.log('\n' + table(rows));
  const e2e = e2eTable(rows);
  if (e2e) console.log('\n## End-to-end (throughput, MFU = share of the FMA ceiling at model FLOPs, memory)\n' + e2e);
  console.log('\n## Ratios (same run)\n' + ratioLines(rows).join('\n'));
  console.log('\n' + printAutotune());
  if (args.json) {
    mkdirSync(dirname(args.json), { recursive: true });
    writeFileSync(args.json, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    console.log(`\nwrote ${rows.length} records to ${args.json}`);
  }
  await shutdownGpu();
  process.exit(0); // peers keep their own devices alive; they have nothing left to do
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
