// linearHalf(x, W) = f16(x)·f16(W)ᵀ with f32 accumulation and an f32 output: the dense product of
// mixed-precision training (Micikevicius et al. 2018) as one op. x and W are f32 (activations and
// master weights); the op rounds them to f16 (nearest even, ±Inf beyond the range) and keeps the f16
// copies for its backward:
//   dx = f16(g)·f16(W)        dW = f16(g)ᵀ·f16(x)        (f32 accumulation, f32 outputs)
// The same numbers as matmul(toF16(x), toF16(W), {transB, out: 'f32'}) forward; backward, that chain
// also rounds dx and dW to f16 before widening them (toF16's backward), which this op skips: 2 fewer
// dispatches per product (no f16 gradients written and widened) and gradients rounded once, in f32.
// An overflowing f16(g) (loss scale too large) still gives Inf/NaN gradients, which the scaler sees.
// Where the adapter's f16 products run on widened operands (variant 'widen', lavapipe), the backward
// multiplies f16(g) held in f32 (one rounding pass, no f16 copy to widen twice): the same bits. Those
// f32 products sum a second gradient of x or W into the first in their writes where the kernel can
// (autograd's `into`, as projectionGrads in ./linear.ts): the bits of product + add, one add fewer
// per extra reader (q/k/v of one normed input, gate/up).
import { noGrad, record } from '../autograd.ts';
import { assertDtype, assertLive, Tensor, view } from '../tensor.ts';
import { roundToF16Raw, toF16, toF32 } from './cast.ts';
import { matmulAccumulateRaw, matmulF16Widens, matmulRaw } from './matmul.ts';

const castRawF32 = (t16: Tensor) => noGrad(() => toF32(t16));

/** `wHalf` / `xHalf`, where given, are f16(W) / f16(x) made beforehand (toF16Many: a step's weights cast
 * in a few launches; one cast of an input several projections share); the op then reads them instead of
 * casting, and keeps them for its backward. */
export function linearHalf(x: Tensor, w: Tensor, wHalf?: Tensor, xHalf?: Tensor): Tensor {
  assertLive('linearHalf', x, w);
  assertDtype('linearHalf', x, 'f32');
  assertDtype('linearHalf', w, 'f32');
  const K = x.shape[x.rank - 1]!;
  if (x.rank < 1 || w.rank !== 2 || K !== w.shape[1]) {
    throw new Error(`linearHalf: x [${x.shape.join(', ')}] does not match W [${w.shape.join(', ')}] (expected x [..., in], W [out, in])`);
  }
  if (wHalf) {
    assertLive('linearHalf', wHalf);
    assertDtype('linearHalf', wHalf, 'f16');
    if (wHalf.shape.join(',') !== w.shape.join(',')) throw new Error(`linearHalf: f16(W) [${wHalf.shape.join(', ')}] is not W's shape [${w.shape.join(', ')}]`);
  }
  if (xHalf) {
    assertLive('linearHalf', xHalf);
    assertDtype('linearHalf', xHalf, 'f16');
    if (xHalf.shape.join(',') !== x.shape.join(',')) throw new Error(`linearHalf: f16(x) [${xHalf.shape.join(', ')}] is not x's shape [${x.shape.join(', ')}]`);
  }
  const N = w.shape[0]!;
  const rows = x.size / Math.max(1, K);
  const x16 = xHalf ?? noGrad(() => toF16(x));
  const w16 = wHalf ?? noGrad(() => toF16(w));
  const x2 = view(x16, [rows, K]);
  const y2 = matmulRaw(x2, w16, false, true, 'f32');
  const y = view(y2, [...x.shape.slice(0, -1), N]);
  y2.dispose();
  const out = record(
    y,
    'linearHalf',
    [x, w],
    (g, into, release) => {
      const gv = view(g, [rows, N]);
      // where both products run on widened operands ('widen'), f16(g) is made as f32 in one pass
      // (roundToF16Raw): the same bits as widening an f16 copy, with one [rows, N] buffer fewer and
      // two casts of it fewer (the LM head's g is the [tokens, vocab] logits gradient)
      const wide = (!x.requiresGrad || matmulF16Widens(gv, w16, false, false)) && (!w.requiresGrad || matmulF16Widens(gv, x2, true, false));
      const g2 = wide ? roundToF16Raw(gv) : noGrad(() => toF16(gv));
      gv.dispose();
      release?.(); // g is read only through g2 from here: its storage is free for the products' temporaries
      const operand = (t16: Tensor) => (wide ? castRawF32(t16) : t16);
      let gx: Tensor | null = null;
      let gw: Tensor | null = null;
      // f32 operands (widened) can sum into x's / W's gradient so far; matmulAccumulateRaw refuses f16 ones
      const acc = wide ? (into?.[0] ?? null) : null;
      const accW = wide ? (into?.[1] ?? null) : null;
      if (x.requiresGrad) {
        const w2 = operand(w16);
        if (acc && matmulAccumulateRaw(g2, w2, false, false, acc)) gx = acc;
        else {
          const t = matmulRaw(g2, w2, false, false, 'f32');
          gx = view(t, x.shape);
          t.dispose();
        }
        if (w2 !== w16) w2.dispose();
      }
      if (w.requiresGrad) {
        const x32 = operand(x2);
        if (accW && matmulAccumulateRaw(g2, x32, true, false, accW)) gw = accW;
        else gw = matmulRaw(g2, x32, true, false, 'f32');
        if (x32 !== x2) x32.dispose();
      }
      g2.dispose();
      return [gx, gw];
    },
    [x16, w16],
  );
  if (!out.requiresGrad) {
    // nothing recorded (no gradient wanted): the f16 copies made here are not needed past the product
    x2.dispose();
    if (!xHalf) x16.dispose();
    if (!wHalf) w16.dispose();
  }
  return out;
}
