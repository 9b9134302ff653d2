// Label smoothing of the human term of eq. 2: the one-hot label becomes (1 − ε)·onehot + ε·u, with
// u = ⟨1/3, 1/3, 1/3⟩ (Szegedy et al. 2016). The training labels carry 10% noise (DATA_CARD.md), and a
// stage that fits 1,200 target labels for a thousand steps memorises the noisy ones; smoothing bounds
// how far a logit is pushed for any one label.
//
// The fused three-token CE takes ℓ = α·CE(onehot, p̂) + (1−α)·CE(soft, p̂) (eq. 2). CE is linear in
// its target (eq. 3), so the smoothed loss
//   α·[(1−ε)·CE(onehot, p̂) + ε·CE(u, p̂)] + (1−α)·CE(t, p̂)                  (t: the teacher triple, if any)
// is the same kernel with α' = α(1−ε) and soft' = (αε·u + (1−α)·t) / (1 − α'), a distribution.
// ε = 0 returns the inputs unchanged (no soft labels where α = 1), so a run without smoothing is the
// run it was before the knob existed.

export type Triple = [number, number, number];

export interface Ce3Targets {
  /** α of eq. 2 for the kernel. */
  alpha: number;
  /** One soft triple per sample, or null (hard labels only). */
  soft: Triple[] | null;
}

/** The kernel's (α', soft') for eq. 2's α, smoothing ε ∈ [0, 1) and the teacher triples (null where α = 1). */
export function smoothedTargets(alpha: number, eps: number, teacher: Triple[] | null, n: number): Ce3Targets {
  if (!(eps >= 0 && eps < 1)) throw new Error(`label smoothing ${eps} is not in [0, 1)`);
  if (!(alpha > 0 && alpha <= 1)) throw new Error(`label smoothing: alpha ${alpha} is not in (0, 1]`);
  if (alpha < 1 && (!teacher || teacher.length !== n)) throw new Error(`label smoothing: alpha ${alpha} < 1 needs a teacher triple for each of the ${n} samples`);
  const u = (alpha * eps) / 3;
  // 1 − α' = αε + (1 − α): summed from its terms, not as 1 − α(1−ε), which cancels for small ε
  const rest = 3 * u + (1 - alpha);
  if (eps === 0 || alpha * (1 - eps) === 1 || u === 0) return { alpha, soft: alpha < 1 ? teacher : null };
  const soft = Array.from({ length: n }, (_, i): Triple => {
    const t = alpha < 1 ? teacher![i]! : ([0, 0, 0] as Triple);
    return [0, 1, 2].map((k) => (u + (1 - alpha) * t[k]!) / rest) as Triple;
  });
  return { alpha: 1 - rest, soft };
}
