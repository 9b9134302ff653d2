// Row-wise top-k (engine/ops/topk.ts): the GPU kernel returns exactly the float64 reference's lists
// (values and indices, ties to the lower index, empty slots where a row has fewer than k entries),
// folding chunks into a running list gives the one-shot answer, and the reference is a top-k.
import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { topkMergeRef, TOPK_EMPTY, TOPK_NONE } from '../../engine/reference/topk.ts';
import { rng } from '../util.ts';

const r = rng(808);

/** f32-exact scores; `ties` draws them from a few values so equal scores are common. */
function scores(rows: number, C: number, ties: boolean): Float32Array {
  return Float32Array.from({ length: rows * C }, () => (ties ? r.int(5) - 2 : r.normal()));
}

async function gpuLists(x: Float32Array, rows: number, C: number, k: number, chunk = C) {
  return E.scopeAsync(async () => {
    let run: E.TopkLists | null = null;
    for (let s = 0; s < C; s += chunk) {
      const w = Math.min(chunk, C - s);
      const part = Float32Array.from({ length: rows * w }, (_, i) => x[Math.floor(i / w) * C + s + (i % w)]!);
      run = E.topkMerge(E.tensor(part, [rows, w]), k, s, run);
    }
    return { values: Array.from(await E.read(run!.values)), indices: Array.from(await E.read(run!.indices)) };
  });
}

describe('topk', () => {
  const cases: [rows: number, C: number, k: number, ties: boolean][] = [
    [1, 1, 1, false],
    [7, 37, 5, false],
    [13, 300, 32, true], // capacity 32
    [5, 1000, 33, false], // capacity 128
    [3, 200, 128, true],
    [4, 3, 10, false], // fewer entries than k: empty slots
  ];
  for (const [rows, C, k, ties] of cases) {
    it(`[${rows}, ${C}] k ${k}${ties ? ' with ties' : ''}: GPU = float64 reference, one shot and in chunks`, async () => {
      await E.sync();
      const before = E.liveBytes();
      const x = scores(rows, C, ties);
      const ref = topkMergeRef(x, rows, C, 0, null, k);
      expect(await gpuLists(x, rows, C, k)).toEqual({ values: Array.from(ref.values), indices: Array.from(ref.indices) });
      expect(await gpuLists(x, rows, C, k, Math.max(1, Math.floor(C / 3) + 1))).toEqual({ values: Array.from(ref.values), indices: Array.from(ref.indices) });
      const cpu = E.topk(E.tensor(x, [rows, C], { backend: 'cpu' }), k);
      expect([Array.from(cpu.values.cpu!), Array.from(cpu.indices.cpu!)]).toEqual([Array.from(ref.values), Array.from(ref.indices)]);
      await E.sync();
      expect(E.liveBytes()).toBe(before);
    });
  }

  it('the reference is a top-k: sorted best first, ties to the lower index, nothing left out beats the last', () => {
    for (let t = 0; t < 20; t++) {
      const rows = 1 + r.int(4), C = 1 + r.int(60), k = 1 + r.int(20);
      const x = scores(rows, C, t % 2 === 0);
      const { values, indices } = topkMergeRef(x, rows, C, 0, null, k);
      for (let row = 0; row < rows; row++) {
        const got = [...Array(k).keys()].map((j) => [values[row * k + j]!, indices[row * k + j]!] as const).filter(([, i]) => i !== TOPK_NONE);
        expect(got).toHaveLength(Math.min(k, C));
        const better = (a: readonly [number, number], b: readonly [number, number]) => a[0] > b[0] || (a[0] === b[0] && a[1] < b[1]);
        got.forEach(([v, i], j) => {
          expect(v).toBe(x[row * C + i]);
          if (j > 0) expect(better(got[j - 1]!, got[j]!)).toBe(true);
        });
        const chosen = new Set(got.map(([, i]) => i));
        for (let i = 0; i < C; i++) if (!chosen.has(i)) expect(better([x[row * C + i]!, i], got.at(-1)!)).toBe(false);
        for (let j = got.length; j < k; j++) expect(values[row * k + j]).toBe(TOPK_EMPTY);
      }
    }
  });

  it('refuses bad arguments with the reason', () => {
    E.scope(() => {
      const x = E.tensor([1, 2, 3, 4], [2, 2]);
      expect(() => E.topk(x, 0)).toThrow(/k must be an integer in \[1, 128\]/);
      expect(() => E.topk(x, 129)).toThrow(/k must be an integer/);
      expect(() => E.topk(E.tensor([1, 2], [2]), 1)).toThrow(/scores must be 2-D/);
      expect(() => E.topkMerge(x, 2, 0, E.topk(E.tensor([1, 2, 3], [3, 1]), 2))).toThrow(/running list .* is not \[2, 2\]/);
      expect(() => E.topkMerge(x, 1, -1)).toThrow(/start must be a non-negative integer/);
    });
  });
});
