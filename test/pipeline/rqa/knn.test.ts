import { describe, expect, it } from 'vitest';
import { liveBytes, tensor } from '../../../engine/index.ts';
import { rng } from '../../../engine/random.ts';
import { blockRows, catalogueBlocks, defaultChunk, knnSearch } from '../../../pipeline/rqa/knn.ts';
import { TopK } from '../../../pipeline/rqa/topk.ts';

function randRows(seed: number, n: number, d: number): Float64Array {
  const r = rng(seed);
  const a = new Float64Array(n * d);
  for (let i = 0; i < a.length; i++) a[i] = r.normal();
  return a;
}

/** Float64 brute force: the k best rows per query, best first. */
function bruteForce(q: Float64Array, c: Float64Array, Q: number, N: number, D: number, k: number, excl: (qi: number) => Set<number>) {
  return [...Array(Q).keys()].map((qi) => {
    const h = new TopK(k);
    for (let j = 0; j < N; j++) {
      if (excl(qi).has(j)) continue;
      let s = 0;
      for (let d = 0; d < D; d++) s += q[qi * D + d]! * c[j * D + d]!;
      h.push(j, s);
    }
    return h.sorted();
  });
}

describe('exact GPU nearest-neighbour search', () => {
  const Q = 37, N = 1000, D = 24;
  const qh = randRows(1, Q, D);
  const ch = randRows(2, N, D);
  const noExcl = () => new Set<number>();

  for (const [mode, chunk, k] of [['gpu', 128, 10], ['gpu', 1000, 1], ['host', 333, 10], ['gpu', 300, 100]] as const) {
    it(`matches a float64 brute force (${mode} top-k, chunk ${chunk}, k ${k})`, async () => {
      const before = liveBytes();
      const q = tensor(qh, [Q, D]);
      const c = tensor(ch, [N, D]);
      const got = await knnSearch(q, c, k, { chunk, topk: mode });
      q.dispose();
      c.dispose();
      expect(liveBytes()).toBe(before);
      const want = bruteForce(qh, ch, Q, N, D, k, noExcl);
      for (let qi = 0; qi < Q; qi++) {
        expect(got[qi]!.length).toBe(k);
        got[qi]!.forEach((h, j) => {
          const w = want[qi]![j]!;
          // f32 scores: the same rows unless two scores are within rounding of each other
          expect(Math.abs(h.score - w.score)).toBeLessThan(1e-4 * (1 + Math.abs(w.score)));
          if (j + 1 < k && Math.abs(w.score - want[qi]![j + 1]!.score) > 1e-3) expect(h.index).toBe(w.index);
        });
      }
    });
  }

  for (const mode of ['gpu', 'host'] as const) {
    it(`a catalogue in row blocks gives what one tensor gives (${mode} top-k; blocks of 300, 1 and 699 rows, chunks of 128)`, async () => {
      const before = liveBytes();
      const q = tensor(qh, [Q, D]);
      const c = tensor(ch, [N, D]);
      const f32 = Float32Array.from(ch);
      const blocks = [tensor(f32.subarray(0, 300 * D), [300, D]), tensor(f32.subarray(300 * D, 301 * D), [1, D]), tensor(f32.subarray(301 * D), [699, D])];
      const one = await knnSearch(q, c, 10, { chunk: 128, topk: mode });
      const many = await knnSearch(q, blocks, 10, { chunk: 128, topk: mode, exclude: () => new Set([300]) });
      const manyAll = await knnSearch(q, blocks, 10, { chunk: 128, topk: mode });
      for (const t of [q, c, ...blocks]) t.dispose();
      expect(liveBytes()).toBe(before);
      expect(manyAll).toEqual(one);
      for (const l of many) expect(l.map((h) => h.index)).not.toContain(300);
    });
  }

  it('catalogueBlocks splits rows so that each block fits one binding, in order, covering every row', () => {
    expect(blockRows(10, 4, 48)).toEqual([3, 3, 3, 1]);
    expect(blockRows(1_000_000, 128, 128 * 2 ** 20)).toEqual([262144, 262144, 262144, 213568]);
    const rows = Float32Array.from(ch);
    const blocks = catalogueBlocks(rows, D, 4 * D * 333);
    expect(blocks.map((b) => b.shape[0])).toEqual([333, 333, 333, 1]);
    for (const b of blocks) b.dispose();
    expect(() => catalogueBlocks(rows.subarray(1), D)).toThrow(/not rows of 24/);
  });

  it('a default chunk fits one storage binding (few queries against 10^6 rows of 128 once made a 192 MiB binding)', () => {
    const maxBinding = 128 * 2 ** 20;
    for (const q of [1, 44, 256, 1024]) {
      const c = defaultChunk(q, 1_000_000, 128, maxBinding);
      expect(c * 128 * 4).toBeLessThanOrEqual(maxBinding);
      expect(q * c).toBeLessThanOrEqual(1 << 24);
    }
    expect(defaultChunk(16, 100, 128, maxBinding)).toBe(100);
  });

  it('the GPU kernel and the host heap return identical lists', async () => {
    const q = tensor(qh, [Q, D]);
    const c = tensor(ch, [N, D]);
    const a = await knnSearch(q, c, 16, { chunk: 250, topk: 'gpu' });
    const b = await knnSearch(q, c, 16, { chunk: 250, topk: 'host' });
    q.dispose();
    c.dispose();
    expect(a).toEqual(b);
  });

  it('never returns the judged product (exclusion hook), and handles k > N', async () => {
    // Each query is a catalogue row itself, so without exclusion it would be its own best match.
    const n = 50;
    const cat = randRows(3, n, 8);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let d = 0; d < 8; d++) s += cat[i * 8 + d]! ** 2;
      for (let d = 0; d < 8; d++) cat[i * 8 + d]! /= Math.sqrt(s);
    }
    const c = tensor(cat, [n, 8]);
    const q = tensor(cat.slice(0, 10 * 8), [10, 8]);
    for (const topk of ['gpu', 'host'] as const) {
      const plain = await knnSearch(q, c, 3, { topk });
      plain.forEach((l, qi) => expect(l[0]!.index).toBe(qi));
      const ex = await knnSearch(q, c, 3, { topk, chunk: 7, exclude: (qi) => new Set([qi, (qi + 1) % n]) });
      ex.forEach((l, qi) => {
        expect(l).toHaveLength(3);
        expect(l.map((h) => h.index)).not.toContain(qi);
        expect(l.map((h) => h.index)).not.toContain((qi + 1) % n);
      });
      const all = await knnSearch(q, c, 80, { topk, exclude: (qi) => new Set([qi]) });
      all.forEach((l) => expect(l).toHaveLength(n - 1));
    }
    q.dispose();
    c.dispose();
  });
});
