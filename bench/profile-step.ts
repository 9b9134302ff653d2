// One SFT training step (pipeline/train/sft.ts's own sftStep), step by step: wall time, CPU time of the
// JS thread and of the adapter's threads, dispatches; with CSRM_TIME_KERNELS=1 also GPU time per op
// (=kernel: per op, kernel and grid; PROFILE_TOP=N rows, default 25), the first step left out (it compiles
// and autotunes).
// --cpu-profile: the dispatches of one more step are recorded and replayed one at a time, each timed by
// the adapter threads' CPU time (on lavapipe the steadiest per-kernel cost on a loaded machine).
//   [CSRM_TIME_KERNELS=1] npx tsx bench/profile-step.ts [preset] [lora] [--task lm|relevance|mixed] [--steps N]
//       [--matmul VARIANT] [--cpu-profile] [--no-in-place] [--precision f32|mixed-f16] [--ops]
// --precision: the step's precision (mixed-f16: the loss scaler carried across the steps);
// --ops: one more step's dispatches counted per op (what a fusion or a cheaper op would save).
// --no-in-place: every second gradient of a tensor is made apart and added (the engine's in-place sums off: A/B runs).
// Tasks: lm — B 16 × T 64 plain LM rows (every position carries the LM head's loss, as bench/train-step.ts);
// relevance — 16 relevance prompts of 40–112 tokens (the label head: three rows of the LM head);
// mixed — 12 relevance + 4 translation samples (the SFT stream with mtRatio 0.25).
import { initEngine, shutdownGpu, scopeAsync, item, adamw, kernelTimes, resetKernelTimes, sync, dispatchCount, setMatmulVariant, setInPlaceAccumulation, type MatmulVariant } from '../engine/index.ts';
import { rng } from '../engine/random.ts';
import { makeConfig, paperLora } from '../models/llama-config.ts';
import { initLlama, trainableParams, addLora } from '../models/llama.ts';
import type { Seq } from '../pipeline/train/batch.ts';
import { sftStep } from '../pipeline/train/sft.ts';
import { launch, onLaunch, type LaunchRecord } from '../engine/runtime.ts';
import { threadCpu, threadCpuSince } from '../engine/thread-cpu.ts';
import { bindGroupStats } from '../engine/bind-groups.ts';
import { benchSftConfig } from './train-step.ts';
import { PRECISIONS, type Precision } from '../models/mixed-precision.ts';
import type { LossScale } from '../engine/optim/loss-scale.ts';

const args = process.argv.slice(2);
const flag = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args.splice(i, 2)[1]! : dflt;
};
const task = flag('task', 'lm');
const steps = Number(flag('steps', '4'));
const matmulVariant = flag('matmul', '');
const noInPlace = args.includes('--no-in-place');
if (noInPlace) args.splice(args.indexOf('--no-in-place'), 1);
const cpuProfile = args.includes('--cpu-profile');
if (cpuProfile) args.splice(args.indexOf('--cpu-profile'), 1);
const opsCount = args.includes('--ops');
if (opsCount) args.splice(args.indexOf('--ops'), 1);
const precision = flag('precision', 'f32');
if (!(PRECISIONS as readonly string[]).includes(precision)) throw new Error(`--precision ${precision}: expected ${PRECISIONS.join(' or ')}`);
if (!['lm', 'relevance', 'mixed'].includes(task)) throw new Error(`--task ${task}: expected lm, relevance or mixed`);
const preset = args[0] ?? 'small';
const lora = args[1] === 'lora';
const V = 3000;

/** The step's samples: fixed per task, so runs compare. */
function samples(): Seq[] {
  const r = rng(20261130);
  const ids = (n: number) => Array.from({ length: n }, () => 3 + r.int(V - 3));
  if (task === 'lm') return Array.from({ length: 16 }, (_, b) => ({ kind: 'lm' as const, ids: Array.from({ length: 64 }, (_, t) => (b * 7 + t * 13) % V) }));
  const rel = (n: number) => Array.from({ length: n }, () => ({ kind: 'relevance' as const, ids: ids(40 + r.int(73)), hard: r.int(3), soft: null }));
  if (task === 'relevance') return rel(16);
  const mt = Array.from({ length: 4 }, () => {
    const promptLen = 20 + r.int(30);
    return { kind: 'translation' as const, ids: ids(promptLen + 10 + r.int(40)), promptLen };
  });
  return [...rel(12), ...mt];
}

await initEngine();
if (matmulVariant) setMatmulVariant(matmulVariant as MatmulVariant); // every matmul on one variant (A/B runs)
if (noInPlace) setInPlaceAccumulation(false);
const cfg = makeConfig(preset, V);
const m = initLlama(cfg, 1);
if (lora) addLora(m, paperLora(cfg.dim), 3);
const params = trainableParams(m);
const seqs = samples();
const T = Math.max(...seqs.map((s) => s.ids.length));
const sft = { ...benchSftConfig(seqs.length, T), ...(precision !== 'f32' ? { precision: precision as Precision } : {}) };
let scale: LossScale | null = null;
const opt = adamw(params, { lr: sft.lr, weightDecay: sft.weightDecay });
const inp = { model: m, labelIds: [0, 1, 2] as const, padId: 0, cfg: sft, label: 'profile' };
const label = `preset ${preset}${lora ? ' + LoRA' : ''}, task ${task}, B ${seqs.length} × T ${T}${precision !== 'f32' ? `, ${precision}` : ''}`;
for (let s = 0; s < steps; s++) {
  const t0 = performance.now();
  const u0 = process.cpuUsage();
  const c0 = threadCpu();
  const d0 = dispatchCount();
  const tokens = await scopeAsync(async () => {
    const st = await sftStep(inp, params, opt, seqs, s, scale);
    scale = st.scale;
    await item(st.loss);
    return st.tokens;
  });
  const u = process.cpuUsage(u0);
  const c = threadCpuSince(c0);
  const ms = performance.now() - t0;
  const split = c ? ` (JS thread ${c.jsMs.toFixed(0)} ms, other threads ${c.otherMs.toFixed(0)} ms)` : '';
  console.log(
    `step ${s} ${ms.toFixed(0)} ms (${(tokens / (ms / 1000)).toFixed(0)} tokens/s, ${label}), process cpu ${((u.user + u.system) / 1e3).toFixed(0)} ms${split}, ${dispatchCount() - d0} dispatches`,
  );
  // the first step compiles and autotunes: its GPU time is not the step's
  if (s === 0 && steps > 1) {
    await sync();
    await resetKernelTimes();
  }
}
await sync();
{
  const b = bindGroupStats();
  console.log(`bind groups: ${b.hits} reused, ${b.misses} made (${b.size} cached)`);
}
if (opsCount) await countOps();
if (cpuProfile) await replayProfile();
const kt = kernelTimes();
if (kt.length > 0) {
  const tot = kt.reduce((a, b) => a + b.totalMs, 0);
  console.log('total GPU ms', tot.toFixed(0));
  for (const k of kt.slice(0, Number(process.env.PROFILE_TOP ?? 25))) console.log(k.op.padEnd(72), String(k.calls).padStart(5), k.totalMs.toFixed(1).padStart(9), 'ms', ((100 * k.totalMs) / tot).toFixed(1) + '%');
}
await shutdownGpu();

/** One more step's dispatches per op, most first. */
async function countOps(): Promise<void> {
  const byOp = new Map<string, number>();
  onLaunch((r) => byOp.set(r.op, (byOp.get(r.op) ?? 0) + 1));
  await scopeAsync(async () => {
    const st = await sftStep(inp, params, opt, seqs, steps, scale);
    scale = st.scale;
    return item(st.loss);
  });
  onLaunch(null);
  const total = [...byOp.values()].reduce((a, b) => a + b, 0);
  console.log(`dispatches of one step by op (${total}):`);
  for (const [op, n] of [...byOp].sort((a, b) => b[1] - a[1])) console.log(`  ${op.padEnd(28)} ${String(n).padStart(5)}`);
}

/** Records one step's dispatches, replays each alone (best of 3 after a warm-up) and prints adapter-thread CPU per op. */
async function replayProfile(): Promise<void> {
  const recs: LaunchRecord[] = [];
  onLaunch((r) => recs.push(r));
  await scopeAsync(async () => item((await sftStep(inp, params, opt, seqs, steps, scale)).loss));
  onLaunch(null);
  const cost: number[] = [];
  for (const r of recs) {
    let best = Infinity;
    for (let i = 0; i < 4; i++) {
      const c0 = threadCpu();
      launch(r.kernel, r.buffers, r.grid, r.params, r.op);
      await sync();
      if (i > 0) best = Math.min(best, threadCpuSince(c0)!.otherMs);
    }
    cost.push(best);
  }
  const total = cost.reduce((a, b) => a + b, 0);
  const byOp = new Map<string, { n: number; ms: number }>();
  recs.forEach((r, i) => {
    const e = byOp.get(r.op) ?? { n: 0, ms: 0 };
    byOp.set(r.op, { n: e.n + 1, ms: e.ms + cost[i]! });
  });
  console.log(`adapter-thread CPU of one step's ${recs.length} dispatches replayed one by one: ${total.toFixed(1)} ms`);
  for (const [op, e] of [...byOp].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(`  ${op.padEnd(28)} ${String(e.n).padStart(4)} ${e.ms.toFixed(1).padStart(8)} ms ${((100 * e.ms) / total).toFixed(1).padStart(5)}%`);
  }
  console.log('  slowest dispatches:');
  const order = cost.map((c, i) => i).sort((a, b) => cost[b]! - cost[a]!);
  for (const i of order.slice(0, Number(process.env.PROFILE_TOP ?? 15))) {
    const r = recs[i]!;
    console.log(`    ${cost[i]!.toFixed(2).padStart(7)} ms  ${r.op} ${r.kernel.name} grid ${r.grid.join('x')} params ${r.params.map((p) => (typeof p === 'number' ? p : p.f)).join(',')}`);
  }
}
