// Every launch gets its own slot of the shared uniform buffer (runtime.ts): launches of one kernel on
// the same buffers inside one command buffer must each read their own params.
import { describe, expect, it } from 'vitest';
import { mulScalar, read, scopeAsync, tensor, flush } from '../../engine/index.ts';
import { rng } from '../../engine/random.ts';

describe('uniform slots', () => {
  it('two launches of one kernel on the same buffers, in one batch, read their own uniforms', async () => {
    const r = rng(41);
    const xs = Array.from({ length: 37 }, () => 4 * r.uniform() - 2);
    await scopeAsync(async () => {
      const x = tensor(xs, [37]);
      flush(); // the upload's flush is behind us: both products below go into one command buffer
      const y = mulScalar(x, 2.5);
      const yBuf = y.gpu!.buffer;
      y.dispose();
      const z = mulScalar(x, -3); // takes y's pooled buffer: the same kernel, layout and buffers
      expect(z.gpu!.buffer).toBe(yBuf);
      const got = Array.from(await read(z));
      got.forEach((v, i) => expect(v).toBeCloseTo(-3 * xs[i]!, 5));
    });
  });

  it('many launches on rotating buffers stay correct', async () => {
    const r = rng(42);
    const xs = Array.from({ length: 300 }, () => 2 * r.uniform() - 1);
    await scopeAsync(async () => {
      const x = tensor(xs, [300]);
      let acc = x;
      for (let i = 1; i <= 40; i++) {
        const next = mulScalar(acc, i % 2 ? 1.25 : 0.8);
        if (acc !== x) acc.dispose();
        acc = next;
      }
      const got = Array.from(await read(acc));
      const f = 1.25 ** 20 * 0.8 ** 20;
      got.forEach((v, i) => expect(v).toBeCloseTo(xs[i]! * f, 4));
    });
  });
});
