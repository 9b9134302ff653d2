// Float64 naive attention, the reference for the fused kernels: scores by matmul, mask, softmax,
// matmul; and its backward through the same materialised T×S matrices.
//   S = scale·Q·Kᵀ (masked to −∞),  P = softmax(S),  O = P·V
//   dV = Pᵀ·dO,  dP = dO·Vᵀ,  dS = P ⊙ (dP − rowsum(dP ⊙ P)),  dQ = scale·dS·K,  dK = scale·dSᵀ·Q
// Layouts: q/o [B, T, H, Dh], k/v [B, S, Hkv, Dh], lse [B, H, T]. A query row with no visible key
// gives o = 0, lse = 0 and no gradient.
export interface AttnDims {
  B: number;
  T: number;
  S: number;
  H: number;
  Hkv: number;
  Dh: number;
  causal: boolean;
  scale: number;
  offset: number; // query i sees key j ≤ i + offset when causal
}

/** Visible keys [0, end) of query i in batch row b; lengths are clamped to [0, S]. */
export function keyEndRef(d: AttnDims, lens: ArrayLike<number> | null, b: number, i: number): number {
  let e = lens ? Math.min(Math.max(lens[b]!, 0), d.S) : d.S;
  if (d.causal) e = Math.min(Math.max(i + d.offset + 1, 0), e);
  return e;
}

/** Masked softmax probabilities of one (b, h, i) row over keys [0, S): P (zeros where masked). */
function probs(Q: ArrayLike<number>, K: ArrayLike<number>, lens: ArrayLike<number> | null, d: AttnDims, b: number, h: number, i: number): { P: Float64Array; lse: number } {
  const hk = Math.floor(h / (d.H / d.Hkv));
  const P = new Float64Array(d.S);
  const end = keyEndRef(d, lens, b, i);
  if (end === 0) return { P, lse: 0 };
  const qo = ((b * d.T + i) * d.H + h) * d.Dh;
  let m = -Infinity;
  for (let j = 0; j < end; j++) {
    const ko = ((b * d.S + j) * d.Hkv + hk) * d.Dh;
    let s = 0;
    for (let c = 0; c < d.Dh; c++) s += Q[qo + c]! * K[ko + c]!;
    P[j] = s * d.scale;
    m = Math.max(m, P[j]!);
  }
  let l = 0;
  for (let j = 0; j < end; j++) {
    P[j] = Math.exp(P[j]! - m);
    l += P[j]!;
  }
  for (let j = 0; j < end; j++) P[j]! /= l;
  return { P, lse: m + Math.log(l) };
}

export function attentionRef(Q: ArrayLike<number>, K: ArrayLike<number>, V: ArrayLike<number>, lens: ArrayLike<number> | null, d: AttnDims): { o: Float64Array; lse: Float64Array } {
  const o = new Float64Array(d.B * d.T * d.H * d.Dh);
  const lse = new Float64Array(d.B * d.H * d.T);
  const group = d.H / d.Hkv;
  for (let b = 0; b < d.B; b++)
    for (let h = 0; h < d.H; h++)
      for (let i = 0; i < d.T; i++) {
        const { P, lse: z } = probs(Q, K, lens, d, b, h, i);
        lse[(b * d.H + h) * d.T + i] = z;
        const qo = ((b * d.T + i) * d.H + h) * d.Dh;
        for (let j = 0; j < d.S; j++) {
          if (P[j] === 0) continue;
          const vo = ((b * d.S + j) * d.Hkv + Math.floor(h / group)) * d.Dh;
          for (let c = 0; c < d.Dh; c++) o[qo + c]! += P[j]! * V[vo + c]!;
        }
      }
  return { o, lse };
}

export function attentionBackwardRef(
  Q: ArrayLike<number>,
  K: ArrayLike<number>,
  V: ArrayLike<number>,
  lens: ArrayLike<number> | null,
  dO: ArrayLike<number>,
  d: AttnDims,
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const dq = new Float64Array(Q.length);
  const dk = new Float64Array(K.length);
  const dv = new Float64Array(V.length);
  const group = d.H / d.Hkv;
  const dP = new Float64Array(d.S);
  for (let b = 0; b < d.B; b++)
    for (let h = 0; h < d.H; h++) {
      const hk = Math.floor(h / group);
      for (let i = 0; i < d.T; i++) {
        const { P } = probs(Q, K, lens, d, b, h, i);
        const qo = ((b * d.T + i) * d.H + h) * d.Dh;
        let rs = 0; // rowsum(dP ⊙ P)
        for (let j = 0; j < d.S; j++) {
          const vo = ((b * d.S + j) * d.Hkv + hk) * d.Dh;
          let s = 0;
          for (let c = 0; c < d.Dh; c++) s += dO[qo + c]! * V[vo + c]!;
          dP[j] = s;
          rs += s * P[j]!;
        }
        for (let j = 0; j < d.S; j++) {
          if (P[j] === 0) continue;
          const ko = ((b * d.S + j) * d.Hkv + hk) * d.Dh;
          const dS = P[j]! * (dP[j]! - rs) * d.scale;
          for (let c = 0; c < d.Dh; c++) {
            dv[ko + c]! += P[j]! * dO[qo + c]!;
            dq[qo + c]! += dS * K[ko + c]!;
            dk[ko + c]! += dS * Q[qo + c]!;
          }
        }
      }
    }
  return { dq, dk, dv };
}
