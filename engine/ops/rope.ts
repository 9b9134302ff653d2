// Rotary position embeddings with per-token positions (so left/right padding and KV-cache offsets
// work). A rotation is orthogonal, so the backward is the rotation by the negative angle.
import { record } from '../autograd.ts';
import { launch, grid1d } from '../runtime.ts';
import { assertDtype, assertLive, assertSameBackend, empty, Tensor } from '../tensor.ts';
import { ropeKernel, ROPE_WG } from '../../kernels/rope/rotate-half.ts';
import { ropeRef } from '../reference/rope.ts';

function ropeRaw(x: Tensor, positions: Tensor, theta: number, sign: number): Tensor {
  const [B, T, H, Dh] = x.shape as [number, number, number, number];
  const y = empty(x.shape, 'f32', x.backend);
  if (y.size === 0) return y;
  if (x.backend === 'cpu') {
    (y.cpu as Float64Array).set(ropeRef(x.cpu as Float64Array, positions.cpu as Int32Array, B * T, H, Dh, theta, sign));
    return y;
  }
  const half = Dh / 2;
  const vec = half % 4 === 0;
  const hv = vec ? half / 4 : half;
  const n = B * T * hv; // one invocation per (token, pair group), looping over the H heads
  launch(ropeKernel(vec), [x, positions, y], grid1d(Math.ceil(n / ROPE_WG)), [n, H, hv, { f: Math.log2(theta) }, Dh, { f: sign }], 'rope');
  return y;
}

/** x [B, T, H, Dh] rotated per token by positions (i32 [B, T]); HF Llama/Qwen2 rotate_half layout. */
export function rope(x: Tensor, positions: Tensor, theta = 10000): Tensor {
  assertLive('rope', x, positions);
  assertDtype('rope', x, 'f32');
  assertDtype('rope', positions, 'i32');
  assertSameBackend('rope', x, positions);
  const shapes = `x [${x.shape.join(', ')}], positions [${positions.shape.join(', ')}]`;
  if (x.rank !== 4) throw new Error(`rope: x must be [B, T, H, Dh] (${shapes})`);
  const [B, T, , Dh] = x.shape as [number, number, number, number];
  if (Dh % 2 !== 0 || Dh === 0) throw new Error(`rope: head dim ${Dh} must be even and non-zero (${shapes})`);
  if (positions.rank !== 2 || positions.shape[0] !== B || positions.shape[1] !== T) {
    throw new Error(`rope: positions must be [${B}, ${T}] (${shapes})`);
  }
  if (!(theta > 0)) throw new Error(`rope: theta must be positive, got ${theta}`);
  const y = ropeRaw(x, positions, theta, 1);
  return record(y, 'rope', [x, positions], (g) => [ropeRaw(g, positions, theta, -1), null]);
}
