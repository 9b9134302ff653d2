// The bind-group cache (engine/bind-groups.ts): a batch that repeats an earlier one (same kernels, same
// buffers, so the same uniform slots) reuses its bind groups, each launch still reads the values written
// for it, and giving the pool's buffers back empties the cache.
import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { bindGroupStats } from '../../engine/bind-groups.ts';
import { allocBuffer, releaseBuffer, trimPool } from '../../engine/pool.ts';
import { launch } from '../../engine/runtime.ts';
import { kernel } from '../../kernels/kernel.ts';

// y[i] = a·i + b for i < n, from the uniform slot
const affine = kernel(
  'test_affine',
  `struct P { n: u32, a: f32, b: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) { if (g.x < p.n) { y[g.x] = p.a * f32(g.x) + p.b; } }`,
  ['rw'],
);

describe('bind groups (engine/bind-groups.ts)', () => {
  it('are made once per (kernel layout, uniform slot, buffers): a repeated batch hits, with its own uniform values', async () => {
    const y = E.empty([37]);
    const z = E.empty([37]);
    await E.sync();
    const batch = async (a: number) => {
      launch(affine, [y], [1, 1, 1], [37, { f: a }, { f: 0 }]);
      launch(affine, [z], [1, 1, 1], [37, { f: -1 }, { f: a }]);
      launch(affine, [y], [1, 1, 1], [20, { f: 3 }, { f: -a }]); // only the first 20 change
      return [await E.read(y), await E.read(z)]; // the readback ends the batch: the next starts at slot 0
    };
    const s0 = bindGroupStats();
    const first = await batch(1);
    const s1 = bindGroupStats();
    const second = await batch(2);
    const s2 = bindGroupStats();
    expect(s1.misses - s0.misses).toBe(3); // three slots
    expect(s2.hits - s1.hits).toBe(3); // the same three again
    expect(s2.misses).toBe(s1.misses);
    for (const [a, [yv, zv]] of [[1, first], [2, second]] as const) {
      for (let i = 0; i < 37; i++) {
        expect(yv![i]).toBe(i < 20 ? 3 * i - a : a * i);
        expect(zv![i]).toBe(a - i);
      }
    }
    y.dispose();
    z.dispose();
  });

  it('a slot reused by a later batch reads 0 past the params its launch passes, not the earlier launch\'s words', async () => {
    const y = E.empty([37]);
    await E.sync(); // the batch of the poison fill ends here: both launches below take the first slot
    launch(affine, [y], [1, 1, 1], [37, { f: 1 }, { f: 5 }]);
    expect((await E.read(y))[3]).toBe(8);
    launch(affine, [y], [1, 1, 1], [37, { f: 2 }]); // the same slot; b not passed
    expect(Array.from(await E.read(y))).toEqual(Array.from({ length: 37 }, (_, i) => 2 * i));
    y.dispose();
  });

  it('the pool hands out a size class\'s free buffers lowest id (oldest) first, whatever the order they were freed in', async () => {
    await E.sync();
    trimPool();
    const bytes = 4096 + 64; // a class of its own here
    let held = [0, 1, 2, 3].map(() => allocBuffer(bytes));
    const order = held.map((b) => b.buffer);
    for (const freeOrder of [[2, 0, 3, 1], [3, 2, 1, 0], [0, 1, 2, 3], [1, 3, 0, 2]]) {
      for (const i of freeOrder) releaseBuffer(held[i]!);
      held = [0, 1, 2, 3].map(() => allocBuffer(bytes));
      expect(held.map((b) => order.indexOf(b.buffer)), `freed in the order ${freeOrder}`).toEqual([0, 1, 2, 3]);
    }
    for (const b of held) releaseBuffer(b);
  });

  it('giving the pool back empties the cache (its buffers are destroyed)', async () => {
    const y = E.empty([16]);
    launch(affine, [y], [1, 1, 1], [16, { f: 1 }, { f: 1 }]);
    await E.sync();
    expect(bindGroupStats().size).toBeGreaterThan(0);
    y.dispose();
    const before = bindGroupStats().clears;
    trimPool();
    expect(bindGroupStats().size).toBe(0);
    expect(bindGroupStats().clears).toBe(before + 1); // and a full collection frees the evicted groups' descriptor sets
    // and launches afterwards make new ones that work
    const w = E.empty([16]);
    launch(affine, [w], [1, 1, 1], [16, { f: 0 }, { f: 7 }]);
    expect(Array.from(await E.read(w))).toEqual(Array(16).fill(7));
    w.dispose();
  });
});
