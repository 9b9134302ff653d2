// One SFT training step (pipeline/train/sft.ts's own sftStep), step by step: wall time, CPU time of the
// JS thread and of the adapter's threads, dispatches; with CSRM_TIME_KERNELS=1 also GPU time per op.
//   [CSRM_TIME_KERNELS=1] npx tsx bench/profile-step.ts [preset] [lora] [--task lm|relevance|mixed] [--steps N] [--matmul VARIANT]
// Tasks: lm — B 16 × T 64 plain LM rows (every position carries the LM head's loss, as bench/train-step.ts);
// relevance — 16 relevance prompts of 40–112 tokens (the label head: three rows of the LM head);
// mixed — 12 relevance + 4 translation samples (the SFT stream with mtRatio 0.25).
import { initEngine, shutdownGpu, scopeAsync, item, adamw, kernelTimes, sync, dispatchCount, setMatmulVariant, type MatmulVariant } from '../engine/index.ts';
import { rng } from '../engine/random.ts';
import { makeConfig, paperLora } from '../models/llama-config.ts';
import { initLlama, trainableParams, addLora } from '../models/llama.ts';
import type { Seq } from '../pipeline/train/batch.ts';
import { sftStep } from '../pipeline/train/sft.ts';
import { threadCpu, threadCpuSince } from '../engine/thread-cpu.ts';
import { benchSftConfig } from './train-step.ts';

const args = process.argv.slice(2);
const flag = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args.splice(i, 2)[1]! : dflt;
};
const task = flag('task', 'lm');
const steps = Number(flag('steps', '4'));
const matmulVariant = flag('matmul', '');
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
const cfg = makeConfig(preset, V);
const m = initLlama(cfg, 1);
if (lora) addLora(m, paperLora(cfg.dim), 3);
const params = trainableParams(m);
const seqs = samples();
const T = Math.max(...seqs.map((s) => s.ids.length));
const sft = benchSftConfig(seqs.length, T);
const opt = adamw(params, { lr: sft.lr, weightDecay: sft.weightDecay });
const inp = { model: m, labelIds: [0, 1, 2] as const, padId: 0, cfg: sft, label: 'profile' };
const label = `preset ${preset}${lora ? ' + LoRA' : ''}, task ${task}, B ${seqs.length} × T ${T}`;
for (let s = 0; s < steps; s++) {
  const t0 = performance.now();
  const u0 = process.cpuUsage();
  const c0 = threadCpu();
  const d0 = dispatchCount();
  const tokens = await scopeAsync(async () => {
    const st = sftStep(inp, params, opt, seqs, s);
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
}
await sync();
const kt = kernelTimes();
if (kt.length > 0) {
  const tot = kt.reduce((a, b) => a + b.totalMs, 0);
  console.log('total GPU ms', tot.toFixed(0));
  for (const k of kt.slice(0, 25)) console.log(k.op.padEnd(28), String(k.calls).padStart(5), k.totalMs.toFixed(1).padStart(9), 'ms', ((100 * k.totalMs) / tot).toFixed(1) + '%');
}
await shutdownGpu();
