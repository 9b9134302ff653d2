// The HNSW index behind `rqa.index: "hnsw"`: recall@10 against exact inner-product search on fresh
// random clustered unit vectors, scores that are the inner products, the same graph from the same
// seed, a saved index read back only for the embeddings it was built from, and the config check.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rng } from '../../../engine/random.ts';
import { buildHnsw, HNSW_DEFAULTS, loadHnsw, saveHnsw, searchHnsw } from '../../../pipeline/rqa/hnsw-index.ts';
import { TopK } from '../../../pipeline/rqa/topk.ts';
import { rqaConfig } from '../../../pipeline/stages/rqa-stage.ts';

const D = 24;
function vectors(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const centres = Array.from({ length: 20 }, () => Array.from({ length: D }, () => r.normal()));
  const out = new Float32Array(n * D);
  for (let i = 0; i < n; i++) {
    const c = centres[r.int(centres.length)]!;
    let s = 0;
    for (let d = 0; d < D; d++) s += (out[i * D + d] = c[d]! + r.normal()) ** 2;
    for (let d = 0; d < D; d++) out[i * D + d]! /= Math.sqrt(s);
  }
  return out;
}
const dot = (a: Float32Array, i: number, b: Float32Array, j: number) => {
  let s = 0;
  for (let d = 0; d < D; d++) s += a[i * D + d]! * b[j * D + d]!;
  return s;
};

describe('HNSW index', () => {
  const base = vectors(3000, 1);
  const queries = vectors(100, 2);
  const h = buildHnsw(base, D);

  it('recall@10 ≥ 0.95 against exact search, and its scores are the inner products', () => {
    const got = searchHnsw(h, queries, 10);
    let hit = 0;
    for (let q = 0; q < 100; q++) {
      const t = new TopK(10);
      for (let j = 0; j < 3000; j++) t.push(j, dot(queries, q, base, j));
      const want = new Set(t.sorted().map((x) => x.index));
      hit += got[q]!.filter((x) => want.has(x.index)).length;
      for (const x of got[q]!) expect(x.score).toBeCloseTo(dot(queries, q, base, x.index), 5);
      for (let j = 1; j < got[q]!.length; j++) expect(got[q]![j]!.score).toBeLessThanOrEqual(got[q]![j - 1]!.score + 1e-6);
    }
    expect(hit / 1000).toBeGreaterThanOrEqual(0.95);
  });

  it('the same seed builds the same graph; k above the count returns every row', () => {
    const again = buildHnsw(base, D);
    expect(searchHnsw(again, queries, 10)).toEqual(searchHnsw(h, queries, 10));
    const small = buildHnsw(base.subarray(0, 5 * D), D);
    expect(searchHnsw(small, queries.subarray(0, D), 50)[0]!.map((x) => x.index).sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('a saved index is read back only for the embeddings and parameters it was built with', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'csrm-hnsw-')), 'cat.hnsw');
    saveHnsw(path, h, 'sha-a');
    const back = loadHnsw(path, 'sha-a', D, 3000, HNSW_DEFAULTS);
    expect(back).not.toBeNull();
    expect(searchHnsw(back!, queries, 10)).toEqual(searchHnsw(h, queries, 10));
    expect(loadHnsw(path, 'sha-b', D, 3000, HNSW_DEFAULTS)).toBeNull();
    expect(loadHnsw(path, 'sha-a', D, 3000, { ...HNSW_DEFAULTS, M: 8 })).toBeNull();
  });

  it('rqa.index must be "exact" or "hnsw"', () => {
    expect(rqaConfig({}).index).toBe('exact');
    expect(rqaConfig({ index: 'hnsw' }).hnsw).toEqual(HNSW_DEFAULTS);
    expect(() => rqaConfig({ index: 'annoy' as 'hnsw' })).toThrow('config rqa.index "annoy" is not "exact" or "hnsw"');
    expect(() => rqaConfig({ hnsw: { ...HNSW_DEFAULTS, M: 1 } })).toThrow('config rqa.hnsw.M 1 must be a whole number ≥ 2');
  });
});
