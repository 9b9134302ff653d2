// The engine demo: trains a small MLP on a synthetic regression task and prints its loss falling.
import { backward, initEngine, item, liveBytes, meanAll, mul, scopeAsync, shutdownGpu, sub, tensor, zeroGrad, rng } from '../../engine/index.ts';
import { sgd } from '../../engine/optim/sgd.ts';
import { mlp } from '../../models/mlp.ts';

export async function runEngineDemo(steps = 300): Promise<{ first: number; last: number }> {
  const gpu = await initEngine();
  console.log(`engine demo on ${gpu.info.adapter}`);
  const r = rng(3);
  const N = 256;
  const D = 16;
  const xs = new Float64Array(N * D);
  const ys = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let t = 0;
    for (let j = 0; j < D; j++) {
      const v = r.uniform() * 2 - 1;
      xs[i * D + j] = v;
      t += Math.sin(3 * v) * (j % 3 === 0 ? 1 : 0.5);
    }
    ys[i] = t;
  }
  const x = tensor(xs, [N, D]);
  const y = tensor(ys, [N, 1]);
  const net = mlp([D, 64, 64, 1], 11);
  const opt = sgd(net.params, 0.02, 0.9);
  let first = NaN;
  let last = NaN;
  const t0 = performance.now();
  for (let s = 0; s < steps; s++) {
    const loss = await scopeAsync(async () => {
      zeroGrad(net.params);
      const d = sub(net.forward(x), y);
      const l = meanAll(mul(d, d));
      backward(l);
      opt.step();
      return s % 25 === 0 || s === steps - 1 ? item(l) : null;
    });
    if (loss !== null) {
      if (Number.isNaN(first)) first = loss;
      last = loss;
      const rate = ((s + 1) / ((performance.now() - t0) / 1000)).toFixed(1);
      console.log(`step ${String(s).padStart(4)}  loss ${loss.toFixed(5)}  ${rate} steps/s  live ${(liveBytes() / 1024).toFixed(0)} KiB`);
    }
  }
  zeroGrad(net.params);
  opt.dispose();
  net.dispose();
  x.dispose();
  y.dispose();
  console.log(`loss ${first.toFixed(4)} → ${last.toFixed(4)} (${last < first ? 'falling' : 'NOT falling'})`);
  return { first, last };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runEngineDemo();
  await shutdownGpu();
}
