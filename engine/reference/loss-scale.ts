// Float64 reference of the loss scaler's overflow check and unscale (kernels/loss-scale/unscale.ts):
//   overflow = ∃ g_i ∉ ℝ (Inf or NaN),   g ← g · inv   (inv = 1/S)
// Returns whether any gradient held a non-finite value; scales in place when `write`.
export function unscaleRef(grads: Float64Array[], inv: number, write = true): boolean {
  let bad = false;
  for (const g of grads) {
    for (let i = 0; i < g.length; i++) {
      if (!Number.isFinite(g[i]!)) bad = true;
      if (write) g[i]! *= inv;
    }
  }
  return bad;
}
