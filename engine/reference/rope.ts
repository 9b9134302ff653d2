// Float64 rotary embedding ("rotate_half"): pairs (i, i + Dh/2) of every head vector rotated by
// a = pos · θ^(−2i/Dh), times `sign` (−1 = the inverse rotation, which is also the backward).
export function ropeRef(
  X: ArrayLike<number>,
  pos: ArrayLike<number>,
  tokens: number,
  heads: number,
  Dh: number,
  theta: number,
  sign: number,
): Float64Array {
  const Y = new Float64Array(tokens * heads * Dh);
  const half = Dh / 2;
  for (let t = 0; t < tokens; t++)
    for (let h = 0; h < heads; h++) {
      const o = (t * heads + h) * Dh;
      for (let i = 0; i < half; i++) {
        const a = pos[t]! * Math.pow(theta, (-2 * i) / Dh);
        const c = Math.cos(a);
        const s = Math.sin(a) * sign;
        const x0 = X[o + i]!;
        const x1 = X[o + i + half]!;
        Y[o + i] = x0 * c - x1 * s;
        Y[o + i + half] = x1 * c + x0 * s;
      }
    }
  return Y;
}
