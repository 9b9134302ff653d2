// Float64 reference of the three-token soft-label CE (paper eqs. 2–3); math in engine/losses/ce3.ts.
export interface Ce3Args {
  logits: ArrayLike<number>; // [B, V]
  B: number;
  V: number;
  ids: readonly [number, number, number];
  hard: ArrayLike<number>; // [B] in {0, 1, 2}
  soft: ArrayLike<number> | null; // [B, 3]
  alpha: number;
  weights: ArrayLike<number> | null; // [B]
}

/** log p̂ over the three gathered logits of row i (max-shifted). */
export function ce3LogProbs(a: Pick<Ce3Args, 'logits' | 'V' | 'ids'>, i: number): [number, number, number] {
  const z = a.ids.map((c) => a.logits[i * a.V + c]!) as [number, number, number];
  const m = Math.max(z[0], z[1], z[2]);
  const lse = m + Math.log(Math.exp(z[0] - m) + Math.exp(z[1] - m) + Math.exp(z[2] - m));
  return [z[0] - lse, z[1] - lse, z[2] - lse];
}

/** t_i = α·onehot(hard_i) + (1−α)·soft_i (onehot alone without soft labels). */
export function ce3Target(a: Ce3Args, i: number): [number, number, number] {
  const h = a.hard[i]!;
  if (!(h === 0 || h === 1 || h === 2)) throw new Error(`threeTokenCE: hard label ${h} at row ${i} is not 0, 1 or 2`);
  const oh = [0, 1, 2].map((k) => (k === h ? 1 : 0));
  if (!a.soft) return oh as [number, number, number];
  return oh.map((o, k) => a.alpha * o + (1 - a.alpha) * a.soft![3 * i + k]!) as [number, number, number];
}

/** Per-sample losses ℓ_i = −w_i·Σ_k t_ik·log p̂_ik. */
export function ce3ForwardRef(a: Ce3Args): Float64Array {
  const out = new Float64Array(a.B);
  for (let i = 0; i < a.B; i++) {
    const lp = ce3LogProbs(a, i);
    const t = ce3Target(a, i);
    out[i] = -(a.weights ? a.weights[i]! : 1) * (t[0] * lp[0] + t[1] * lp[1] + t[2] * lp[2]);
  }
  return out;
}

/** dlogits [B, V]: g_i·w_i·(p̂_k·Σt − t_k) in the three label columns, exactly 0 elsewhere. */
export function ce3BackwardRef(a: Ce3Args, g: (i: number) => number): Float64Array {
  const dx = new Float64Array(a.B * a.V);
  for (let i = 0; i < a.B; i++) {
    const lp = ce3LogProbs(a, i);
    const t = ce3Target(a, i);
    const st = t[0] + t[1] + t[2];
    const gi = g(i) * (a.weights ? a.weights[i]! : 1);
    for (let k = 0; k < 3; k++) dx[i * a.V + a.ids[k]!] = gi * (Math.exp(lp[k]!) * st - t[k]!);
  }
  return dx;
}

/** p̂ [B, 3]. */
export function ce3ProbsRef(a: Pick<Ce3Args, 'logits' | 'V' | 'ids' | 'B'>): Float64Array {
  const out = new Float64Array(a.B * 3);
  for (let i = 0; i < a.B; i++) ce3LogProbs(a, i).forEach((l, k) => (out[3 * i + k] = Math.exp(l)));
  return out;
}
