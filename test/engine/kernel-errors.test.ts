// A kernel that does not compile is reported with its name, the WGSL line and the message.
import { expect, it } from 'vitest';
import { precompile } from '../../engine/index.ts';
import { kernel } from '../../kernels/kernel.ts';

it('precompile names the kernel and quotes the failing WGSL line', async () => {
  const broken = kernel(
    'deliberately_broken',
    /* wgsl */ `struct P { n: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let v: f32 = undefined_name * 2.0;
  y[gid.x] = v;
}`,
    ['rw'],
  );
  const err = await precompile(broken).then(
    () => null,
    (e: Error) => e,
  );
  expect(err).not.toBeNull();
  expect(err!.message).toMatch(/kernel "deliberately_broken" failed to compile/);
  expect(err!.message).toMatch(/line 6:\d+: .*undefined_name/);
  expect(err!.message).toMatch(/\| +let v: f32 = undefined_name \* 2\.0;/);
});
