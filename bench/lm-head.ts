// The LM head and its loss at the tiny training step's shape (h [1008, 64], tied head [3000, 64]),
// forward + backward: the fused op (lmHeadCrossEntropy) against the composition the step ran before
// (linear, then lmCrossEntropy writing its gradient over the logits), in alternating rounds in one
// process, each timed by wall clock and by the adapter threads' CPU time (steadier on a shared
// machine). "full": h and the head get gradients; "lora": the head is frozen (only h).
// --kernels: also each dispatch of one full step of either path replayed alone, interleaved, best of
// the rounds by adapter-thread CPU (which kernel the difference comes from).
//   npx tsx bench/lm-head.ts [--rounds 15] [--N 1008] [--V 3000] [--D 64] [--kernels] [--matmul VARIANT]
import * as E from '../engine/index.ts';
import { lmCrossEntropy, lmHeadCrossEntropy } from '../engine/losses/index.ts';
import { threadCpu, threadCpuSince } from '../engine/thread-cpu.ts';
import { launch, onLaunch, type LaunchRecord } from '../engine/runtime.ts';

const args = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const rounds = flag('rounds', 15);
const [N, V, D] = [flag('N', 1008), flag('V', 3000), flag('D', 64)];

await E.initEngine();
const mi = args.indexOf('--matmul');
if (mi >= 0) E.setMatmulVariant(args[mi + 1] as E.MatmulVariant); // every product on one variant
const h = E.keep(E.randn([N, D], { std: 1, seed: 1 }));
const W = E.keep(E.randn([V, D], { std: 0.5, seed: 2 }));
const t = E.keep(E.tensor(Array.from({ length: N }, (_, i) => (i * 131 + 7) % V), [N], { dtype: 'i32' }));

type Path = 'fused' | 'composed';
async function step(path: Path, trainHead: boolean): Promise<{ wall: number; cpu: number; dispatches: number; loss: number }> {
  h.requiresGrad = true;
  W.requiresGrad = trainHead;
  await E.sync();
  const d0 = E.dispatchCount();
  const c0 = threadCpu();
  const t0 = performance.now();
  const loss = await E.scopeAsync(async () => {
    const l = path === 'fused' ? lmHeadCrossEntropy(h, W, t) : lmCrossEntropy(E.linear(h, W), t, { overwriteLogits: true });
    E.backward(l);
    return E.item(l);
  });
  await E.sync();
  const wall = performance.now() - t0;
  const cpu = threadCpuSince(c0)?.otherMs ?? NaN;
  const dispatches = E.dispatchCount() - d0;
  E.zeroGrad([h, W]);
  return { wall, cpu, dispatches, loss };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`LM head + cross-entropy, N ${N}, V ${V}, D ${D}: ${rounds} alternating rounds after one warm-up each`);
for (const trainHead of [true, false]) {
  const res: Record<Path, { wall: number[]; cpu: number[]; dispatches: number; loss: number }> = {
    fused: { wall: [], cpu: [], dispatches: 0, loss: 0 },
    composed: { wall: [], cpu: [], dispatches: 0, loss: 0 },
  };
  for (const p of ['fused', 'composed'] as const) await step(p, trainHead);
  for (let r = 0; r < rounds; r++) {
    for (const p of (r % 2 ? ['composed', 'fused'] : ['fused', 'composed']) as Path[]) {
      const s = await step(p, trainHead);
      res[p].wall.push(s.wall);
      res[p].cpu.push(s.cpu);
      res[p].dispatches = s.dispatches;
      res[p].loss = s.loss;
    }
  }
  for (const p of ['composed', 'fused'] as const) {
    const x = res[p];
    console.log(
      `${trainHead ? 'full' : 'lora'} ${p.padEnd(8)} wall median ${median(x.wall).toFixed(1)} ms (min ${Math.min(...x.wall).toFixed(1)}), adapter CPU median ${median(x.cpu).toFixed(1)} ms (min ${Math.min(...x.cpu).toFixed(1)}), ${x.dispatches} dispatches, loss ${x.loss.toFixed(6)}`,
    );
  }
}
if (args.includes('--kernels')) await replay();
E.release(h, W, t);
await E.shutdownGpu();

/** Replays each dispatch of one full step per path alone, interleaved over the rounds; prints the best adapter-thread CPU of each. */
async function replay(): Promise<void> {
  const recs: Record<Path, LaunchRecord[]> = { fused: [], composed: [] };
  for (const p of ['fused', 'composed'] as const) {
    onLaunch((r) => recs[p].push(r));
    await step(p, true);
    onLaunch(null);
  }
  const all = [...recs.fused.map((r) => ['fused', r] as const), ...recs.composed.map((r) => ['composed', r] as const)];
  const best = all.map(() => Infinity);
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < all.length; i++) {
      const r = all[i]![1];
      const c0 = threadCpu();
      launch(r.kernel, r.buffers, r.grid, r.params, r.op);
      await E.sync();
      if (round > 0) best[i] = Math.min(best[i]!, threadCpuSince(c0)!.otherMs);
    }
  }
  all.forEach(([p, r], i) => console.log(`  ${p.padEnd(8)} ${best[i]!.toFixed(2).padStart(7)} ms  ${r.op} ${r.kernel.name} grid ${r.grid.join('x')}`));
}
