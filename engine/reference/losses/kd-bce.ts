// Float64 reference of the cosine knowledge-distillation BCE (paper eq. 4); math in engine/losses/kd-bce.ts.
export interface KdBceArgs {
  q: ArrayLike<number>; // [B, D]
  p: ArrayLike<number>; // [B, D]
  teacher: ArrayLike<number>; // [B]
  B: number;
  D: number;
  scale: number;
}

export const KD_EPS = 1e-8;

export function kdRow(a: KdBceArgs, i: number): { dot: number; nq: number; np: number; c: number } {
  let dot = 0;
  let qq = 0;
  let pp = 0;
  for (let k = 0; k < a.D; k++) {
    const x = a.q[i * a.D + k]!;
    const y = a.p[i * a.D + k]!;
    dot += x * y;
    qq += x * x;
    pp += y * y;
  }
  const nq = Math.max(Math.sqrt(qq), KD_EPS);
  const np = Math.max(Math.sqrt(pp), KD_EPS);
  return { dot, nq, np, c: dot / (nq * np) };
}

/** BCE of σ(z) against t as a function of z: softplus(z) − t·z (stable for any z). */
export const bceWithLogit = (z: number, t: number) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - t * z;

/** Per-pair losses. */
export function kdBceForwardRef(a: KdBceArgs): Float64Array {
  const out = new Float64Array(a.B);
  for (let i = 0; i < a.B; i++) out[i] = bceWithLogit(a.scale * kdRow(a, i).c, a.teacher[i]!);
  return out;
}

/** dq, dp for output gradient g and divisor norm (B for 'mean', 1 for 'sum'). */
export function kdBceBackwardRef(a: KdBceArgs, g: number, norm: number): { dq: Float64Array; dp: Float64Array } {
  const dq = new Float64Array(a.B * a.D);
  const dp = new Float64Array(a.B * a.D);
  for (let i = 0; i < a.B; i++) {
    const r = kdRow(a, i);
    const z = a.scale * r.c;
    const k = (g * a.scale * (1 / (1 + Math.exp(-z)) - a.teacher[i]!)) / norm;
    const inv = 1 / (r.nq * r.np);
    const cq = r.nq > KD_EPS ? r.c / (r.nq * r.nq) : 0;
    const cp = r.np > KD_EPS ? r.c / (r.np * r.np) : 0;
    for (let j = 0; j < a.D; j++) {
      const x = a.q[i * a.D + j]!;
      const y = a.p[i * a.D + j]!;
      dq[i * a.D + j] = k * (y * inv - cq * x);
      dp[i * a.D + j] = k * (x * inv - cp * y);
    }
  }
  return { dq, dp };
}
