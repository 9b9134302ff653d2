// SwiGLU MLP activation y = silu(gate) ⊙ up, fused forward and backward (one kernel each way).
import { record } from '../autograd.ts';
import { grid1d, launch } from '../runtime.ts';
import { assertDtype, assertLive, assertSameBackend, empty, Tensor } from '../tensor.ts';
import { swigluBwdKernel, swigluFwdKernel, SWIGLU_VPT, SWIGLU_WG } from '../../kernels/swiglu/swiglu.ts';
import { swigluBwdRef, swigluRef } from '../reference/swiglu.ts';

const grid = (n: number) => grid1d(Math.ceil(Math.ceil(n / 4) / (SWIGLU_WG * SWIGLU_VPT)));

/** The fused backward: [d gate, d up] of y = silu(gate) ⊙ up for the output gradient g (one kernel). */
export function swigluBwd(g: Tensor, gate: Tensor, up: Tensor): [Tensor, Tensor] {
  const dgate = empty(gate.shape, 'f32', gate.backend);
  const dup = empty(gate.shape, 'f32', gate.backend);
  if (gate.backend === 'cpu') {
    const r = swigluBwdRef(g.cpu as Float64Array, gate.cpu as Float64Array, up.cpu as Float64Array);
    (dgate.cpu as Float64Array).set(r.dgate);
    (dup.cpu as Float64Array).set(r.dup);
  } else if (gate.size > 0) {
    launch(swigluBwdKernel, [g, gate, up, dgate, dup], grid(gate.size), [Math.ceil(gate.size / 4)], 'swiglu_bwd');
  }
  return [dgate, dup];
}

export function swiglu(gate: Tensor, up: Tensor): Tensor {
  assertLive('swiglu', gate, up);
  assertDtype('swiglu', gate, 'f32');
  assertDtype('swiglu', up, 'f32');
  assertSameBackend('swiglu', gate, up);
  if (gate.shape.join(',') !== up.shape.join(',')) {
    throw new Error(`swiglu: gate [${gate.shape.join(', ')}] and up [${up.shape.join(', ')}] must have the same shape`);
  }
  const y = empty(gate.shape, 'f32', gate.backend);
  if (gate.backend === 'cpu') (y.cpu as Float64Array).set(swigluRef(gate.cpu as Float64Array, up.cpu as Float64Array));
  else if (y.size > 0) launch(swigluFwdKernel, [gate, up, y], grid(y.size), [Math.ceil(y.size / 4)], 'swiglu');
  return record(y, 'swiglu', [gate, up], (g) => swigluBwd(g, gate, up));
}
