// linear(x, W, b) = x·Wᵀ + b (PyTorch nn.Linear layout: W is [out, in]).
import { record } from '../autograd.ts';
import { assertLive, Tensor, view } from '../tensor.ts';
import { add, reshape } from './elementwise.ts';
import { matmul, matmulAccumulateRaw, matmulAddRaw, matmulRaw } from './matmul.ts';

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

/**
 * r + x·Wᵀ (a residual added to a projection, as the Llama blocks' outputs): where the product runs a
 * subgroup-broadcast kernel (GPU, f32), r is added in the product's writes — the bits of
 * add(r, linear(x, W)) in one dispatch and without the product's buffer; elsewhere exactly that.
 * Backward: dr = g, dx = g·W, dW = gᵀ·x (as linear's).
 */
export function linearAdd(x: Tensor, w: Tensor, r: Tensor): Tensor {
  assertLive('linearAdd', x, w, r);
  const K = x.shape[x.rank - 1]!;
  const N = w.shape[0]!;
  const outShape = [...x.shape.slice(0, -1), N];
  if (x.rank < 2 || w.rank !== 2 || K !== w.shape[1]) return add(r, linear(x, w));
  if (r.shape.join(',') !== outShape.join(',')) throw new Error(`linearAdd: r [${r.shape.join(', ')}] is not the projection's shape [${outShape.join(', ')}]`);
  const rows = x.size / Math.max(1, K);
  const x2 = view(x, [rows, K]);
  const r2 = view(r, [rows, N]);
  const y2 = x.backend === 'gpu' && x.dtype === 'f32' && w.dtype === 'f32' && r.dtype === 'f32' ? matmulAddRaw(x2, w, false, true, r2) : null;
  r2.dispose();
  if (!y2) {
    x2.dispose();
    return add(r, linear(x, w));
  }
  x2.dispose();
  const y = view(y2, outShape);
  y2.dispose();
  return record(y, 'linearAdd', [x, w, r], (g, into) => {
    const g2 = view(g, [rows, N]);
    const [gx, gw] = projectionGrads(g2, x, w, into?.[0] ?? null, into?.[1] ?? null);
    g2.dispose();
    return [gx, gw, r.requiresGrad ? g : null];
  });
}

/**
 * The gradients of y = x·Wᵀ (x [..., K] as `rows` rows, W [N, K]) for y's gradient g2 [rows, N]:
 * dx = g2·W and dW = g2ᵀ·x, each where x / W needs one, each summed into `acc` / `accW` (x's / W's
 * gradient so far: autograd's `into`) where the product's kernel can.
 */
export function projectionGrads(g2: Tensor, x: Tensor, w: Tensor, acc: Tensor | null, accW: Tensor | null = null): [Tensor | null, Tensor | null] {
  const K = w.shape[1]!;
  const rows = g2.shape[0]!;
  let gx: Tensor | null = null;
  let gw: Tensor | null = null;
  if (x.requiresGrad) {
    if (acc && matmulAccumulateRaw(g2, w, false, false, acc)) gx = acc;
    else {
      const t = matmulRaw(g2, w, false, false);
      gx = view(t, x.shape);
      t.dispose();
    }
  }
  if (w.requiresGrad) {
    const xb = view(x, [rows, K]);
    if (accW && matmulAccumulateRaw(g2, xb, true, false, accW)) gw = accW;
    else gw = matmulRaw(g2, xb, true, false);
    xb.dispose();
  }
  return [gx, gw];
}
