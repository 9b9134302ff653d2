// GFLOP/s of matmul configurations on the Llama "small" training-step shapes (rows = B·T = 1024), per
// transpose combination, from GPU timestamps. Configurations are interleaved shape by shape and the
// best of `rounds` rounds counts, so a loaded machine disturbs the comparison less. Besides the
// timestamp (wall) time, the process CPU time of the runs is shown (lavapipe's worker threads live in
// this process): on a shared, loaded machine CPU time is the steadier measure of kernel cost.
//   CSRM_TIME_KERNELS=1 npx tsx bench/matmul-shapes.ts [--variants register,tiled] [--reps 2] [--rounds 3] [--only LM]
import * as E from '../engine/index.ts';
import { matmulRaw } from '../engine/ops/matmul.ts';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : dflt;
};
const reps = Number(opt('reps', '2'));
const rounds = Number(opt('rounds', '3'));
const variants = opt('variants', 'register').split(',') as E.MatmulVariant[];
const only = opt('only', '');
if (process.env.CSRM_TIME_KERNELS !== '1') throw new Error('run with CSRM_TIME_KERNELS=1');

const R = 1024;
// [label, M, N, K, transA, transB]: forward x·Wᵀ (NT), dX = g·W (NN), dW = gᵀ·x (TN)
let shapes: [string, number, number, number, boolean, boolean][] = [];
for (const [o, i] of [[128, 128], [64, 128], [352, 128], [128, 352], [3000, 128]] as const) {
  shapes.push([`fwd ${i}→${o}`, R, o, i, false, true]);
  shapes.push([`dX ${i}→${o}`, R, i, o, false, false]);
  shapes.push([`dW ${i}→${o}`, o, i, R, true, false]);
}
shapes.push(['square 1024³', 1024, 1024, 1024, false, false]);
if (only) shapes = shapes.filter((s) => s[0].includes(only));

await E.initEngine();
const tot = () => E.kernelTimes().find((k) => k.op === 'matmul')?.totalMs ?? 0;
const configs = variants.map((v) => ({ v, name: v }));
const sums = new Map<string, { fl: number; ms: number; cpu: number }>();
for (const [label, M, N, K, tA, tB] of shapes) {
  const a = E.randn(tA ? [K, M] : [M, K], { seed: 1 });
  const b = E.randn(tB ? [N, K] : [K, N], { seed: 2 });
  const best = new Map<string, number>();
  const bestCpu = new Map<string, number>();
  for (let round = 0; round < rounds; round++) {
    for (const c of configs) {
      E.setMatmulVariant(c.v);
      if (round === 0) matmulRaw(a, b, tA, tB).dispose(); // warm-up
      await E.sync();
      const t0 = tot();
      const u0 = process.cpuUsage();
      for (let r = 0; r < reps; r++) matmulRaw(a, b, tA, tB).dispose();
      await E.sync();
      const u = process.cpuUsage(u0);
      const ms = (tot() - t0) / reps;
      const cpu = (u.user + u.system) / 1e3 / reps;
      best.set(c.name, Math.min(best.get(c.name) ?? Infinity, ms));
      bestCpu.set(c.name, Math.min(bestCpu.get(c.name) ?? Infinity, cpu));
    }
  }
  const fl = 2 * M * N * K;
  const cells = configs.map((c) => {
    const ms = best.get(c.name)!;
    const cpu = bestCpu.get(c.name)!;
    if (!label.startsWith('square')) {
      const s = sums.get(c.name) ?? { fl: 0, ms: 0, cpu: 0 };
      sums.set(c.name, { fl: s.fl + fl, ms: s.ms + ms, cpu: s.cpu + cpu });
    }
    return `${c.name}: ${ms.toFixed(1).padStart(7)} ms ${(fl / ms / 1e6).toFixed(2).padStart(6)} GF/s, cpu ${cpu.toFixed(0).padStart(5)} ms ${(fl / cpu / 1e6).toFixed(2).padStart(5)} GF/cpu-s`;
  });
  console.log(`${label.padEnd(14)} ${(tA ? 'T' : 'N') + (tB ? 'T' : 'N')} M=${String(M).padStart(4)} N=${String(N).padStart(4)} K=${String(K).padStart(4)} | ${cells.join(' | ')}`);
  a.dispose();
  b.dispose();
}
for (const [name, s] of sums) {
  console.log(`${name}: model shapes total ${s.ms.toFixed(1)} ms ${(s.fl / s.ms / 1e6).toFixed(2)} GFLOP/s; cpu ${s.cpu.toFixed(0)} ms ${(s.fl / s.cpu / 1e6).toFixed(2)} GFLOP/cpu-s`);
}
E.setMatmulVariant(null);
await E.shutdownGpu();
