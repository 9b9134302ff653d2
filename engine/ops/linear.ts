// linear(x, W, b) = x·Wᵀ + b (PyTorch nn.Linear layout: W is [out, in]).
import { assertLive, Tensor } from '../tensor.ts';
import { add, reshape } from './elementwise.ts';
import { matmul } from './matmul.ts';

export function linear(x: Tensor, w: Tensor, bias?: Tensor): Tensor {
  assertLive('linear', x, w);
  const inF = x.shape[x.rank - 1];
  if (x.rank < 1 || w.rank !== 2 || inF !== w.shape[1]) {
    throw new Error(`linear: x [${x.shape.join(', ')}] does not match W [${w.shape.join(', ')}] (expected x [..., in], W [out, in])`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== w.shape[0])) {
    throw new Error(`linear: bias [${bias.shape.join(', ')}] does not match W [${w.shape.join(', ')}] (expected [out])`);
  }
  // a 1-D input is one row
  const x2 = x.rank === 1 ? reshape(x, [1, inF!]) : x;
  let y = matmul(x2, w, { transB: true });
  if (x2 !== x) y = reshape(y, [w.shape[0]!]);
  return bias ? add(y, bias) : y;
}
