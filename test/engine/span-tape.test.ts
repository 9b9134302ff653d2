// GPU spans (timestamp queries around compute passes, for the benchmarks) and the tape's saved tensors.
import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { gpuSync } from '../../engine/device.ts';

describe('GPU spans', () => {
  it('time the work between begin and end when the adapter has timestamp-query, else say so', async () => {
    expect(await E.endGpuSpan()).toBeNull(); // no span open
    const a = E.rand([64, 48], { seed: 1, lo: 0.1, hi: 1 });
    const b = E.rand([48, 32], { seed: 2, lo: 0.1, hi: 1 });
    const began = E.beginGpuSpan();
    expect(began).toBe(gpuSync().has('timestamp-query') && !['1', 'kernel'].includes(process.env.CSRM_TIME_KERNELS ?? ''));
    const c = E.matmul(a, b);
    const out = await E.read(c); // a readback inside the span: its pass is timed too
    const ms = await E.endGpuSpan();
    if (began) {
      expect(ms).not.toBeNull();
      expect(Number.isFinite(ms!) && ms! >= 0).toBe(true);
    } else expect(ms).toBeNull();
    expect(out.every(Number.isFinite)).toBe(true);
    for (const t of [a, b, c]) t.dispose();
  });
});

describe('savedTensors', () => {
  it('lists every input of every recorded op reachable from the root, once', () => {
    E.scope(() => {
      const w = E.tensor([1, 2, 3, 4], [2, 2], { requiresGrad: true });
      const x = E.tensor([0.5, -1, 2, 0.25], [2, 2]);
      const h = E.matmul(x, w);
      const y = E.mul(h, h);
      const loss = E.sumAll(y);
      const saved = E.savedTensors(loss);
      expect(new Set(saved)).toEqual(new Set([x, w, h, y]));
      expect(saved.length).toBe(4);
      expect(E.savedTensors(x)).toEqual([]); // a leaf has no tape
    });
  });
});
