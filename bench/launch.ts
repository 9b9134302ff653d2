// Host cost of a dispatch: `count` launches of a one-workgroup kernel (each with its own uniform value,
// on two buffers in turn, as a training step reuses its pooled buffers), then one sync. The end-to-end
// table's JS-thread column divided by the launches is the engine's host time per launch (uniform slot,
// cached bind group, encoding): on a fast GPU that, not the kernels, bounds a step of small kernels.
import { empty, read, sync, type Tensor } from '../engine/index.ts';
import { launch } from '../engine/runtime.ts';
import { kernel } from '../kernels/kernel.ts';
import type { BenchCase, BenchOpts, BenchSuite } from './types.ts';

// y[i] = p.v for i < 4
const stamp = kernel(
  'bench_stamp',
  `struct P { v: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> y: array<u32>;
@compute @workgroup_size(4) fn main(@builtin(local_invocation_index) i: u32) { y[i] = p.v; }`,
  ['rw'],
);

function launchCase(count: number): BenchCase {
  return {
    kernel: 'launch_overhead',
    shape: `${count} launches`,
    system: 'ours',
    ceiling: 'bandwidth',
    items: { count, unit: 'launches' },
    tolerance: 0,
    async setup() {
      const ys: Tensor[] = [empty([4], 'i32'), empty([4], 'i32')];
      return {
        dispatches: count,
        async run() {
          for (let i = 0; i < count; i++) launch(stamp, [ys[i % 2]!], [1, 1, 1], [i + 1]);
          await sync();
        },
        async relErr() {
          // the last launch on each buffer wrote its own value
          const last = [count - (count % 2 === 0 ? 1 : 0), count - (count % 2 === 0 ? 0 : 1)];
          let bad = 0;
          for (let b = 0; b < 2; b++) {
            const got = Array.from(await read(ys[b]!));
            const want = count >= 2 - b ? last[b]! : 0;
            if (got.some((v) => v !== want)) bad++;
          }
          return bad;
        },
        dispose() {
          for (const y of ys) y.dispose();
        },
      };
    },
  };
}

export const suite: BenchSuite = {
  name: 'launch',
  cases: (o: BenchOpts) => [launchCase(o.smoke ? 7 : 2000)],
};
