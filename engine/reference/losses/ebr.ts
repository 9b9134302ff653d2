// Float64 reference of the EBR distillation loss (paper eq. 1); math in engine/losses/ebr.ts.
export interface EbrArgs {
  q: ArrayLike<number>; // [B, D]
  p: ArrayLike<number>; // [M, D], rows 0..B−1 are the positives
  cvr: ArrayLike<number>; // [B]
  B: number;
  M: number;
  D: number;
  temperature: number;
  mseWeight: number;
}

/** S = Q·Pᵀ [B, M]. */
export function ebrScores(a: EbrArgs): Float64Array {
  const S = new Float64Array(a.B * a.M);
  for (let i = 0; i < a.B; i++)
    for (let j = 0; j < a.M; j++) {
      let s = 0;
      for (let k = 0; k < a.D; k++) s += a.q[i * a.D + k]! * a.p[j * a.D + k]!;
      S[i * a.M + j] = s;
    }
  return S;
}

function rowLse(S: ArrayLike<number>, i: number, M: number, tau: number): number {
  let m = -Infinity;
  for (let j = 0; j < M; j++) m = Math.max(m, S[i * M + j]! / tau);
  let s = 0;
  for (let j = 0; j < M; j++) s += Math.exp(S[i * M + j]! / tau - m);
  return m + Math.log(s);
}

/** Per-query losses from a score matrix: cvr_i·(lse_i − S_ii/τ) + λ·(S_ii − cvr_i)². */
export function ebrRowsFromScores(S: ArrayLike<number>, cvr: ArrayLike<number>, B: number, M: number, tau: number, lambda: number): Float64Array {
  const out = new Float64Array(B);
  for (let i = 0; i < B; i++) {
    const sii = S[i * M + i]!;
    out[i] = cvr[i]! * (rowLse(S, i, M, tau) - sii / tau) + lambda * (sii - cvr[i]!) ** 2;
  }
  return out;
}

/** ∂(Σ_i ℓ_i)/∂S [B, M]. */
export function ebrScoreGradRef(S: ArrayLike<number>, cvr: ArrayLike<number>, B: number, M: number, tau: number, lambda: number): Float64Array {
  const dS = new Float64Array(B * M);
  for (let i = 0; i < B; i++) {
    const lse = rowLse(S, i, M, tau);
    for (let j = 0; j < M; j++) {
      const v = S[i * M + j]!;
      dS[i * M + j] = (cvr[i]! * (Math.exp(v / tau - lse) - (i === j ? 1 : 0))) / tau + (i === j ? 2 * lambda * (v - cvr[i]!) : 0);
    }
  }
  return dS;
}

export function ebrForwardRef(a: EbrArgs): Float64Array {
  return ebrRowsFromScores(ebrScores(a), a.cvr, a.B, a.M, a.temperature, a.mseWeight);
}

/** dQ = c·dS·P, dP = c·dSᵀ·Q for output gradient g and divisor norm, c = g/norm. */
export function ebrBackwardRef(a: EbrArgs, g: number, norm: number): { dq: Float64Array; dp: Float64Array } {
  const dS = ebrScoreGradRef(ebrScores(a), a.cvr, a.B, a.M, a.temperature, a.mseWeight);
  const c = g / norm;
  const dq = new Float64Array(a.B * a.D);
  const dp = new Float64Array(a.M * a.D);
  for (let i = 0; i < a.B; i++)
    for (let j = 0; j < a.M; j++) {
      const d = c * dS[i * a.M + j]!;
      for (let k = 0; k < a.D; k++) {
        dq[i * a.D + k]! += d * a.p[j * a.D + k]!;
        dp[j * a.D + k]! += d * a.q[i * a.D + k]!;
      }
    }
  return { dq, dp };
}
