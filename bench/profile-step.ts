// Per-kernel GPU time of the training step: `CSRM_TIME_KERNELS=1 npx tsx bench/profile-step.ts [preset] [lora]`.
// The step is pipeline/train/sft.ts's own (sftStep) on B = 16 synthetic sequences of T = 64 tokens.
import { initEngine, shutdownGpu, scopeAsync, item, adamw, kernelTimes, sync } from '../engine/index.ts';
import { makeConfig, paperLora } from '../models/llama-config.ts';
import { initLlama, trainableParams, addLora } from '../models/llama.ts';
import { sftStep } from '../pipeline/train/sft.ts';
import { benchSftConfig } from './train-step.ts';
await initEngine();
const preset = process.argv[2] ?? 'small';
const lora = process.argv[3] === 'lora';
const cfg = makeConfig(preset, 3000);
const m = initLlama(cfg, 1);
if (lora) addLora(m, paperLora(cfg.dim), 3);
const params = trainableParams(m);
const B = 16, T = 64;
const sft = benchSftConfig(B, T);
const opt = adamw(params, { lr: sft.lr, weightDecay: sft.weightDecay });
const seqs = Array.from({ length: B }, (_, b) => ({ kind: 'lm' as const, ids: Array.from({ length: T }, (_, t) => (b * 7 + t * 13) % 3000) }));
const inp = { model: m, labelIds: [0, 1, 2] as const, padId: 0, cfg: sft, label: 'profile' };
for (let s = 0; s < 4; s++) {
  const t0 = performance.now();
  const u0 = process.cpuUsage();
  await scopeAsync(async () => item(sftStep(inp, params, opt, seqs, s).loss));
  const u = process.cpuUsage(u0);
  const ms = performance.now() - t0;
  console.log(`step ${s} ${ms.toFixed(0)} ms (${((B * T) / (ms / 1000)).toFixed(0)} tokens/s, preset ${preset}${lora ? ' + LoRA' : ''}), process cpu ${((u.user + u.system) / 1e3).toFixed(0)} ms`);
}
await sync();
const kt = kernelTimes();
const tot = kt.reduce((a, b) => a + b.totalMs, 0);
console.log('total GPU ms', tot.toFixed(0));
for (const k of kt.slice(0, 25)) console.log(k.op.padEnd(28), String(k.calls).padStart(5), k.totalMs.toFixed(1).padStart(9), 'ms', (100 * k.totalMs / tot).toFixed(1) + '%');
await shutdownGpu();
