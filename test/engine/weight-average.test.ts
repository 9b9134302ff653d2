import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { expectSteadyMemory, rng } from '../util.ts';

await E.initEngine();
const r = rng(404);
const randArr = (n: number) => Array.from({ length: n }, () => r.normal());

describe('weightAverage (avg ← avg + (1 − decay)·(p − avg))', () => {
  it('follows the float64 recurrence over steps of changing parameters, on the GPU and the CPU backend', async () => {
    const shapes = [[7, 5], [13], [3, 1, 4]]; // sizes not multiples of 4 (the lerp kernel's vec4 tail)
    const decay = 0.9;
    for (const backend of ['gpu', 'cpu'] as const) {
      const start = shapes.map((s) => randArr(s.reduce((a, b) => a * b, 1)));
      const params = Object.fromEntries(shapes.map((s, i) => [`p${i}`, E.keep(E.tensor(start[i]!, s, { backend }))]));
      const wa = E.weightAverage(params, decay);
      const ref = start.map((a) => [...a]);
      for (let step = 0; step < 5; step++) {
        shapes.forEach((s, i) => {
          const next = randArr(ref[i]!.length);
          E.loadTensorsInto({ x: params[`p${i}`]! }, { x: { shape: s, dtype: 'f32', data: Float32Array.from(next) } });
          // the reference reads the f32-rounded parameters, as the kernel does
          ref[i] = ref[i]!.map((a, j) => a + (1 - decay) * (Math.fround(next[j]!) - a));
        });
        wa.update();
      }
      for (const [i] of shapes.entries()) {
        const got = await E.toArray(wa.tensors()[`p${i}`]!);
        got.forEach((g, j) => expect(Math.abs(g - ref[i]![j]!)).toBeLessThan(1e-5 * (1 + Math.abs(ref[i]![j]!))));
      }
      wa.dispose();
      E.release(...Object.values(params));
    }
  });

  it('swap exchanges parameters and averages in place (identity kept), and twice restores them', async () => {
    const p = E.keep(E.tensor([1, 2, 3, 4, 5], [5]));
    const wa = E.weightAverage({ p }, 0.5);
    E.loadTensorsInto({ p }, { p: { shape: [5], dtype: 'f32', data: Float32Array.from([3, 4, 5, 6, 7]) } });
    wa.update(); // avg = [2, 3, 4, 5, 6]
    const same = p;
    wa.swap();
    expect(p).toBe(same);
    expect(await E.toArray(p)).toEqual([2, 3, 4, 5, 6]);
    expect(await E.toArray(wa.tensors().p!)).toEqual([3, 4, 5, 6, 7]);
    wa.swap();
    expect(await E.toArray(p)).toEqual([3, 4, 5, 6, 7]);
    wa.dispose();
    E.release(p);
  });

  it('holds no memory beyond its averages across updates', async () => {
    const p = E.keep(E.tensor(randArr(300), [300]));
    const wa = E.weightAverage({ p }, 0.99);
    await expectSteadyMemory(() => wa.update());
    wa.dispose();
    E.release(p);
  });

  it('rejects a decay outside (0, 1) and a non-f32 tensor, naming them', () => {
    const p = E.keep(E.tensor([1, 2], [2]));
    expect(() => E.weightAverage({ p }, 1)).toThrow(/weightAverage: decay 1 must be in \(0, 1\)/);
    const i = E.keep(E.tensor([1, 2], [2], { dtype: 'i32' }));
    expect(() => E.weightAverage({ ids: i }, 0.9)).toThrow(/"ids" is i32, not f32/);
    E.release(p, i);
  });
});
