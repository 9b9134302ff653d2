// Autotuning wired into kernel choice: tuneMatmul/tuneSoftmax write a cache entry for the bucket,
// the ops then run the cached choice, and the results match float64 whichever variant is chosen.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { gpuSync } from '../../engine/device.ts';
import { input, rng } from '../util.ts';

await E.initEngine(); // the softmax layouts depend on the adapter

const r = rng(909);
let path = '';

beforeEach(() => {
  path = join(mkdtempSync(join(tmpdir(), 'autotune-ops-')), 'cache.json');
  process.env.CSRM_AUTOTUNE_CACHE = path;
  E.reloadAutotune();
  E.setAutotune(true);
});
afterEach(() => {
  E.setAutotune(false); // test/setup.ts default: other tests keep the fixed, deterministic choice
  delete process.env.CSRM_AUTOTUNE_CACHE;
  E.reloadAutotune();
});

/** A cache file naming `choice` for (this adapter, op, bucket), as another process would have left it. */
function writeCache(op: string, bucket: string, choice: string): void {
  const entry = { adapter: gpuSync().info.adapter, op, bucket, choice, timings: { [choice]: 1 }, measuredAt: new Date().toISOString() };
  writeFileSync(path, JSON.stringify({ version: 1, entries: [entry] }));
  E.reloadAutotune();
}

describe('matmul autotuning', () => {
  const d = { batch: 1, M: 40, N: 24, K: 20 };

  it('buckets by log2 of the output area and of K', () => {
    expect(E.matmulBucket(d)).toBe('mn2^9,k2^4');
    expect(E.matmulBucket({ batch: 3, M: 40, N: 24, K: 20 })).toBe('mn2^11,k2^4');
    expect(E.matmulBucketShape('mn2^9,k2^4')).toEqual({ batch: 1, M: 32, N: 16, K: 16 });
    expect(() => E.matmulBucketShape('rows2^3')).toThrow(/not a matmul bucket/);
  });

  it('tuneMatmul measures every variant of the bucket once, caches the fastest, and matmul then uses it', async () => {
    const before = E.liveBytes();
    const got = await E.tuneMatmul([d, { ...d, M: 41 }], { warmup: 1, reps: 1 }); // same bucket: tuned once
    expect([...got.keys()]).toEqual([E.matmulBucket(d)]);
    const file = JSON.parse(readFileSync(path, 'utf8'));
    expect(file.entries).toHaveLength(1);
    const e = file.entries[0];
    expect(e).toMatchObject({ op: 'matmul', bucket: E.matmulBucket(d), choice: got.get(E.matmulBucket(d)) });
    expect(Object.keys(e.timings).sort()).toEqual([...E.MATMUL_VARIANTS].sort());
    expect(E.matmulVariantFor(d)).toBe(e.choice);
    expect(E.liveBytes()).toBe(before); // the tuning inputs are freed
  });

  for (const v of E.MATMUL_VARIANTS) {
    it(`a cached choice "${v}" is what matmul runs, and it matches float64`, async () => {
      writeCache('matmul', E.matmulBucket(d), v);
      expect(E.matmulVariantFor(d)).toBe(v);
      E.setMatmulVariant(v === 'generic' ? 'register' : 'generic');
      expect(E.matmulVariantFor(d)).not.toBe(v); // an explicit override still wins
      E.setMatmulVariant(null);
      await E.gpucheck((a, b) => E.matmul(a, b), [input(r, [d.M, d.K]), input(r, [d.K, d.N])], { fwdTol: 1e-5, backward: false });
    });
  }

  it('ignores a cached name that is not a variant, and tuning off restores the fixed rule', () => {
    writeCache('matmul', E.matmulBucket(d), 'warp-specialised');
    const fixed = E.chooseMatmulVariant(gpuSync().info, d);
    expect(E.matmulVariantFor(d)).toBe(fixed);
    writeCache('matmul', E.matmulBucket(d), 'generic');
    E.setAutotune(false);
    expect(E.matmulVariantFor(d)).toBe(fixed);
  });
});

describe('softmax autotuning', () => {
  const rows = 9;
  const len = 40; // below 128: 'thread' by the fixed rule, or 'subgroup' where the adapter has it

  it('tuneSoftmax caches a layout for the bucket and softmax then uses it', async () => {
    const got = await E.tuneSoftmax([{ rows, len }], { warmup: 1, reps: 1 });
    const bucket = E.softmaxBucket(rows, len);
    expect(bucket).toBe('rows2^3,len2^5');
    const e = JSON.parse(readFileSync(path, 'utf8')).entries[0];
    expect(e).toMatchObject({ op: 'softmax', bucket, choice: got.get(bucket) });
    expect(Object.keys(e.timings).sort()).toEqual([...E.softmaxLayouts()].sort());
    expect(E.softmaxLayoutFor(rows, len)).toBe(e.choice);
  });

  for (const layout of ['thread', 'workgroup', 'subgroup'] as const) {
    it.skipIf(layout === 'subgroup' && !E.softmaxLayouts().includes('subgroup'))(`a cached layout "${layout}" is used and matches float64 (forward and backward)`, async () => {
      writeCache('softmax', E.softmaxBucket(rows, len), layout);
      expect(E.softmaxLayoutFor(rows, len)).toBe(layout);
      await E.gpucheck(E.softmax, [input(r, [rows, len], 0.1, 3)], { fwdTol: 1e-5, bwdTol: 1e-5 });
      await E.gpucheck(E.logSoftmax, [input(r, [rows, len], 0.1, 3)], { fwdTol: 1e-5, bwdTol: 1e-5 });
    });
  }
});

describe('attention autotuning', () => {
  const s = { B: 1, T: 20, S: 20, H: 2, Hkv: 1, Dh: 16, causal: true };
  const d = { ...s, scale: 0.25, offset: 0 };

  it('tuneAttention measures every variant of the bucket once (forward + backward), caches the fastest, and attention then uses it', async () => {
    const before = E.liveBytes();
    const got = await E.tuneAttention([s, { ...s, T: 21, S: 21 }], { warmup: 1, reps: 1 }); // same bucket: tuned once
    expect([...got.keys()]).toEqual([E.attentionBucket(d)]);
    const e = JSON.parse(readFileSync(path, 'utf8')).entries[0];
    expect(e).toMatchObject({ op: 'attention', bucket: E.attentionBucket(d), choice: got.get(E.attentionBucket(d)) });
    expect(Object.keys(e.timings).sort()).toEqual(E.attentionVariants().sort());
    expect(E.attentionVariantFor(d)).toBe(e.choice);
    expect(E.liveBytes()).toBe(before);
  });

  it('precedence: setAttentionVariant, then CSRM_ATTENTION, then the cached choice, then the fixed rule', () => {
    writeCache('attention', E.attentionBucket(d), 'flash');
    expect(E.attentionVariantFor(d)).toBe('flash');
    E.setAttentionVariant('rows');
    expect(E.attentionVariantFor(d)).toBe('rows');
    E.setAttentionVariant(null);
    process.env.CSRM_ATTENTION = 'rows';
    try {
      expect(E.attentionVariantFor(d)).toBe('rows');
      process.env.CSRM_ATTENTION = 'tiled';
      expect(() => E.attentionVariantFor(d)).toThrow(/CSRM_ATTENTION: unknown attention variant "tiled"/);
    } finally {
      delete process.env.CSRM_ATTENTION;
    }
    writeCache('attention', E.attentionBucket(d), 'warp-specialised');
    expect(E.attentionVariantFor(d)).toBe(E.chooseAttentionVariant());
  });
});
