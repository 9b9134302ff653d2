// silu(gate) ⊙ (x·Wᵀ): the SwiGLU MLP's up projection with the activation in its writes. Where the
// product runs a subgroup-broadcast kernel (GPU, f32, out % 4 = 0), one kernel writes up = x·Wᵀ (kept
// for the backward) and y with the swiglu kernel's expression — the bits of swiglu(gate, linear(x, W))
// without that kernel's dispatch and its second read of gate and up; elsewhere exactly that
// composition. Backward: (d gate, d up) by the fused swiglu backward, then dx = d up·W (summed into
// x's gradient so far where one exists), dW = d upᵀ·x.
import { record } from '../autograd.ts';
import { assertLive, Tensor, view } from '../tensor.ts';
import { linear, projectionGrads } from './linear.ts';
import { matmulSwigluRaw } from './matmul.ts';
import { swiglu, swigluBwd } from './swiglu.ts';

export function swigluLinear(gate: Tensor, x: Tensor, w: Tensor): Tensor {
  assertLive('swigluLinear', gate, x, w);
  const K = x.shape[x.rank - 1]!;
  const N = w.shape[0]!;
  const compose = () => swiglu(gate, linear(x, w));
  if (x.rank < 2 || w.rank !== 2 || K !== w.shape[1] || x.backend !== 'gpu') return compose();
  const outShape = [...x.shape.slice(0, -1), N];
  if (gate.shape.join(',') !== outShape.join(',')) throw new Error(`swigluLinear: gate [${gate.shape.join(', ')}] is not the up projection's shape [${outShape.join(', ')}]`);
  const rows = x.size / Math.max(1, K);
  const [x2, g2] = [view(x, [rows, K]), view(gate, [rows, N])];
  const r = matmulSwigluRaw(x2, w, g2);
  x2.dispose();
  g2.dispose();
  if (!r) return compose();
  const up = view(r.up, outShape);
  const y = view(r.y, outShape);
  r.up.dispose();
  r.y.dispose();
  const out = record(y, 'swigluLinear', [gate, x, w], (g, into) => {
    const [dgate, dup] = swigluBwd(g, gate, up);
    const dup2 = view(dup, [rows, N]);
    const [dx, dw] = projectionGrads(dup2, x, w, into?.[1] ?? null, into?.[2] ?? null);
    dup2.dispose();
    dup.dispose();
    if (!gate.requiresGrad) {
      dgate.dispose();
      return [null, dx, dw];
    }
    return [dgate, dx, dw];
  });
  if (!out.node) up.dispose(); // no backward will read it
  return out;
}
