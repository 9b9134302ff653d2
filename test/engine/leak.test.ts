import { expect, it } from 'vitest';
import { backward, flush, liveBytes, meanAll, mul, randn, scopeAsync, sub, sync, zeroGrad } from '../../engine/index.ts';
import { sgd } from '../../engine/optim/sgd.ts';
import { mlp } from '../../models/mlp.ts';

it('200 training iterations in a scope leave live bytes unchanged', async () => {
  const net = mlp([8, 24, 1], 5);
  const opt = sgd(net.params, 0.01, 0.9);
  const x = randn([33, 8], { seed: 1 });
  const y = randn([33, 1], { seed: 2 });
  const step = () =>
    scopeAsync(async () => {
      zeroGrad(net.params);
      const d = sub(net.forward(x), y);
      backward(meanAll(mul(d, d)));
      opt.step();
      flush();
    });
  await step(); // first step creates gradients and momentum buffers that live on
  await sync();
  const before = liveBytes();
  for (let i = 0; i < 200; i++) await step();
  await sync();
  expect(liveBytes()).toBe(before);
  zeroGrad(net.params);
  opt.dispose();
  net.dispose();
  x.dispose();
  y.dispose();
  expect(liveBytes()).toBe(0);
});
