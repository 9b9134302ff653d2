// Float64 AdamW step, written as PyTorch documents torch.optim.AdamW (amsgrad = False):
//   p ← p·(1 − lr·wd);  m ← β1 m + (1 − β1) g;  v ← β2 v + (1 − β2) g²
//   p ← p − lr · (m / (1 − β1^t)) / (√(v / (1 − β2^t)) + eps)
// Updates p, m, v in place; t is the 1-based step count.
export interface AdamwHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export function adamwRef(p: Float64Array, g: ArrayLike<number>, m: Float64Array, v: Float64Array, t: number, h: AdamwHyper): void {
  const bc1 = 1 - h.beta1 ** t;
  const bc2 = 1 - h.beta2 ** t;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i]!;
    const pd = p[i]! * (1 - h.lr * h.weightDecay);
    m[i] = h.beta1 * m[i]! + (1 - h.beta1) * gi;
    v[i] = h.beta2 * v[i]! + (1 - h.beta2) * gi * gi;
    p[i] = pd - (h.lr * (m[i]! / bc1)) / (Math.sqrt(v[i]! / bc2) + h.eps);
  }
}
