// Float64 global-norm clipping as torch.nn.utils.clip_grad_norm_ (norm type 2):
//   norm = √Σ_params Σ g²,   g ← g · min(1, maxNorm / (norm + 1e-6))
export function clipCoef(norm: number, maxNorm: number): number {
  return Math.min(1, maxNorm / (norm + 1e-6));
}

export function clipRef(grads: Float64Array[], maxNorm: number): number {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i]! * g[i]!;
  const norm = Math.sqrt(s);
  const c = clipCoef(norm, maxNorm);
  for (const g of grads) for (let i = 0; i < g.length; i++) g[i]! *= c;
  return norm;
}
