import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { autotune, autotuneEnabled, pickVariant, printAutotune, reloadAutotune, setAutotune, tunedChoice } from '../../engine/autotune.ts';
import { gpuSync } from '../../engine/device.ts';

// Variants that differ only in how long they take (busy-wait on the host, so the order is certain).
const spin = (ms: number) => async () => {
  const t = performance.now();
  while (performance.now() - t < ms);
};

describe('autotune', () => {
  let path = '';
  beforeEach(() => {
    path = join(mkdtempSync(join(tmpdir(), 'autotune-')), 'cache.json');
    process.env.CSRM_AUTOTUNE_CACHE = path;
    reloadAutotune();
  });
  afterEach(() => {
    setAutotune(false); // test/setup.ts default
    delete process.env.CSRM_AUTOTUNE_CACHE;
    reloadAutotune();
  });

  it('is off in unit tests and then returns the fallback without running any variant', async () => {
    expect(autotuneEnabled()).toBe(false);
    let calls = 0;
    const v = (name: string) => ({ name, run: async () => void calls++ });
    expect(await autotune({ op: 'x', bucket: 'b' }, [v('a'), v('b')], { fallback: 'b' })).toBe('b');
    expect(await autotune({ op: 'x', bucket: 'b' }, [v('a'), v('b')])).toBe('a');
    expect(calls).toBe(0);
    expect(tunedChoice('x', 'b')).toBeUndefined();
  });

  it('measures, picks the fastest, caches it on disk keyed by adapter, op and bucket', async () => {
    setAutotune(true);
    const slowRuns: number[] = [];
    const variants = [
      { name: 'slow', run: async () => { slowRuns.push(1); await spin(6)(); } },
      { name: 'fast', run: spin(1) },
    ];
    expect(await autotune({ op: 'demo', bucket: 'n≤64' }, variants, { warmup: 1, reps: 3 })).toBe('fast');
    expect(slowRuns.length).toBe(4); // 1 warm-up + 3 timed
    expect(tunedChoice('demo', 'n≤64')).toBe('fast');
    expect(tunedChoice('demo', 'other')).toBeUndefined();
    const file = JSON.parse(readFileSync(path, 'utf8'));
    expect(file.entries).toHaveLength(1);
    const e = file.entries[0];
    expect(e).toMatchObject({ adapter: gpuSync().info.adapter, op: 'demo', bucket: 'n≤64', choice: 'fast' });
    expect(e.timings.slow).toBeGreaterThan(e.timings.fast);
    // a second call uses the cache (no runs), and a fresh process (reload) reads it from disk
    reloadAutotune();
    expect(await autotune({ op: 'demo', bucket: 'n≤64' }, variants)).toBe('fast');
    expect(slowRuns.length).toBe(4);
    expect(printAutotune()).toMatch(/demo \[n≤64\] → fast/);
    // force re-measures; a different bucket is a separate entry
    await autotune({ op: 'demo', bucket: 'n>64' }, [{ name: 'only', run: spin(0) }]);
    expect(JSON.parse(readFileSync(path, 'utf8')).entries).toHaveLength(2);
  });

  it('keeps the fallback on a near-tie (within the margin) and leaves it for a clear winner', () => {
    // the rule on measured times (timing a busy-wait under load is not exact enough to test it through)
    expect(pickVariant({ fb: 6, x: 5 }, 'fb', 0.5)).toBe('fb'); // 20% slower, inside a 50% margin
    expect(pickVariant({ fb: 6, x: 5 }, 'fb', 0.01)).toBe('x'); // outside a 1% one
    expect(pickVariant({ fb: 5.2, x: 5 }, 'fb')).toBe('fb'); // default margin 5%
    expect(pickVariant({ fb: 5.3, x: 5 }, 'fb')).toBe('x');
    expect(pickVariant({ a: 3, b: 2, c: 2 })).toBe('b'); // no fallback: the fastest, first on a tie
    expect(() => pickVariant({})).toThrow(/no timings/);
  });

  it('a clear winner replaces the fallback when measured', async () => {
    setAutotune(true);
    const v = (name: string, ms: number) => ({ name, run: spin(ms) });
    expect(await autotune({ op: 'tie', bucket: 'c' }, [v('fb', 30), v('x', 1)], { fallback: 'fb', reps: 3 })).toBe('x');
  });

  it('a variant that throws (a shader the adapter rejects) loses, is recorded with its reason, and the cache keeps it', async () => {
    setAutotune(true);
    const broken = { name: 'fb', run: async () => { throw new Error('WebGPU error: shader rejected\nmore'); } };
    const warn = console.warn;
    console.warn = () => {};
    try {
      // the fallback failed: the fastest of the others wins, not the fallback
      expect(await autotune({ op: 'fail', bucket: 'b' }, [broken, { name: 'slow', run: spin(20) }, { name: 'ok', run: spin(1) }], { fallback: 'fb' })).toBe('ok');
      const saved = JSON.parse(readFileSync(path, 'utf8'));
      const e = (saved.entries ?? saved).find((x: { op: string }) => x.op === 'fail');
      expect(e.failed).toEqual({ fb: 'WebGPU error: shader rejected' });
      expect(e.timings.fb).toBeGreaterThan(e.timings.slow);
      reloadAutotune();
      expect(tunedChoice('fail', 'b')).toBe('ok');
      expect(printAutotune()).toMatch(/fb failed/);
      await expect(autotune({ op: 'fail2', bucket: 'b' }, [broken])).rejects.toThrow(/every variant failed/);
    } finally {
      console.warn = warn;
    }
  });

  it('rejects bad variant lists naming the op', async () => {
    setAutotune(true);
    await expect(autotune({ op: 'mm', bucket: 'b' }, [])).rejects.toThrow(/autotune mm\/b: no variants/);
    const v = { name: 'a', run: spin(0) };
    await expect(autotune({ op: 'mm', bucket: 'b' }, [v, v])).rejects.toThrow(/autotune mm: duplicate variant names \[a, a\]/);
    await expect(autotune({ op: 'mm', bucket: 'b' }, [v], { fallback: 'z' })).rejects.toThrow(/fallback "z"/);
  });
});
