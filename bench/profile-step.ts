import { initEngine, shutdownGpu, tensor, backward, scopeAsync, item, adamw, zeroGrad, clipGradNorm, kernelTimes, sync } from '../engine/index.ts';
import { makeConfig, paperLora } from '../models/llama-config.ts';
import { initLlama, forwardHidden, lmLogits, hiddenRows, trainableParams, addLora } from '../models/llama.ts';
import { lmCrossEntropy } from '../engine/losses/index.ts';
import { buildBatch } from '../pipeline/train/batch.ts';
await initEngine();
const cfg = makeConfig(process.argv[2] ?? 'small', 3000);
const m = initLlama(cfg, 1);
if (process.argv[3] === 'lora') addLora(m, paperLora(cfg.dim), 3);
const params = trainableParams(m);
const opt = adamw(params, { lr: 1e-3 });
const B = 16, T = 64;
const seqs = Array.from({ length: B }, (_, b) => ({ kind: 'lm' as const, ids: Array.from({ length: T }, (_, t) => (b * 7 + t * 13) % 3000) }));
for (let s = 0; s < 4; s++) {
  const t0 = performance.now();
  const u0 = process.cpuUsage();
  await scopeAsync(async () => {
    zeroGrad(params);
    const bb = buildBatch(seqs, 0, 128);
    const h = forwardHidden(m, bb.batch, { training: true, seed: s });
    const logits = lmLogits(m, hiddenRows(h, bb.lmIdx));
    const loss = lmCrossEntropy(logits, tensor(bb.lmTargets, [bb.lmTargets.length], { dtype: 'i32' }));
    backward(loss);
    clipGradNorm(params, 1);
    opt.step();
    return item(loss);
  });
  const u = process.cpuUsage(u0);
  const ms = performance.now() - t0;
  console.log(`step ${s} ${ms.toFixed(0)} ms (${((B * T) / (ms / 1000)).toFixed(0)} tokens/s, preset ${process.argv[2] ?? "small"}${process.argv[3] === "lora" ? " + LoRA" : ""}), process cpu ${((u.user + u.system) / 1e3).toFixed(0)} ms`);
}
await sync();
const kt = kernelTimes();
const tot = kt.reduce((a, b) => a + b.totalMs, 0);
console.log('total GPU ms', tot.toFixed(0));
for (const k of kt.slice(0, 25)) console.log(k.op.padEnd(28), String(k.calls).padStart(5), k.totalMs.toFixed(1).padStart(9), 'ms', (100 * k.totalMs / tot).toFixed(1) + '%');
await shutdownGpu();
