// The bind-group cache (engine/bind-groups.ts): a launch of the same kernel on the same buffers reuses
// its bind group, each launch still reads its own uniform slot (the dynamic offset), and giving the
// pool's buffers back empties the cache.
import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { bindGroupStats } from '../../engine/bind-groups.ts';
import { trimPool } from '../../engine/pool.ts';
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

describe('bind groups', () => {
  it('are made once per (kernel layout, buffers) and each launch reads its own uniform slot', async () => {
    const y = E.empty([37]);
    const z = E.empty([37]);
    const s0 = bindGroupStats();
    // one batch: four launches on y, one on z, each with other uniforms
    launch(affine, [y], [1, 1, 1], [37, { f: 1 }, { f: 0 }]);
    launch(affine, [y], [1, 1, 1], [37, { f: 2 }, { f: 1 }]);
    launch(affine, [z], [1, 1, 1], [37, { f: -1 }, { f: 5 }]);
    launch(affine, [y], [1, 1, 1], [20, { f: 3 }, { f: -2 }]); // only the first 20 change
    const s1 = bindGroupStats();
    expect(s1.misses - s0.misses).toBe(2); // y's and z's
    expect(s1.hits - s0.hits).toBe(2);
    const [yv, zv] = [await E.read(y), await E.read(z)];
    for (let i = 0; i < 37; i++) {
      expect(yv[i]).toBe(i < 20 ? 3 * i - 2 : 2 * i + 1);
      expect(zv[i]).toBe(5 - i);
    }
    y.dispose();
    z.dispose();
  });

  it('giving the pool back empties the cache (its buffers are destroyed)', async () => {
    const y = E.empty([16]);
    launch(affine, [y], [1, 1, 1], [16, { f: 1 }, { f: 1 }]);
    await E.sync();
    expect(bindGroupStats().size).toBeGreaterThan(0);
    y.dispose();
    trimPool();
    expect(bindGroupStats().size).toBe(0);
    // and launches afterwards make new ones that work
    const w = E.empty([16]);
    launch(affine, [w], [1, 1, 1], [16, { f: 0 }, { f: 7 }]);
    expect(Array.from(await E.read(w))).toEqual(Array(16).fill(7));
    w.dispose();
  });
});
