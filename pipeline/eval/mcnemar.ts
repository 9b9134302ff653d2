// McNemar's exact test on paired per-sample correctness. Only the discordant samples carry evidence:
// b = right under A only, c = right under B only. Under "A and B are equally good", each discordant
// sample is B's with probability ½, so c ~ Binomial(b + c, ½), and the two-sided exact p-value is
//   p = min(1, 2 · Σ_{i ≤ min(b, c)} C(b + c, i) / 2^(b + c)).
// It treats samples as independent; samples of one query are not, so the p-value is optimistic when
// the effect concentrates in a few queries. The verdict comes from the query-level bootstrap
// interval (paired-bootstrap.ts); the p-value is reported beside it.

export interface Discordance {
  /** Samples right under A and wrong under B. */
  aOnly: number;
  /** Samples right under B and wrong under A. */
  bOnly: number;
}

/** Discordant counts of two per-sample correctness vectors of the same samples. */
export function discordance(a: ArrayLike<number | boolean>, b: ArrayLike<number | boolean>): Discordance {
  if (a.length !== b.length) throw new Error(`discordance: ${a.length} vs ${b.length} samples`);
  let aOnly = 0;
  let bOnly = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] && !b[i]) aOnly++;
    else if (!a[i] && b[i]) bOnly++;
  }
  return { aOnly, bOnly };
}

/** Two-sided exact McNemar p-value from the discordant counts (exact for any size). */
export function mcnemarExact(b: number, c: number): number {
  for (const [k, v] of [['b', b], ['c', c]] as const) if (!(Number.isInteger(v) && v >= 0)) throw new Error(`mcnemarExact: ${k} must be a count ≥ 0, got ${v}`);
  const n = b + c;
  const m = Math.min(b, c);
  if (2 * m + 1 >= n) return 1; // |b − c| ≤ 1: the smaller tail holds at least half the mass
  if (n <= 1000) {
    // C(n, i) < 2^1000 fits a double; 2^−n is exact, so small cases are exact
    let binom = 1;
    let sum = 1;
    for (let i = 1; i <= m; i++) {
      binom = (binom * (n - i + 1)) / i;
      sum += binom;
    }
    return Math.min(1, 2 * sum * 2 ** -n);
  }
  // from the largest term down, each term relative to it: t_{i−1} = t_i · i / (n − i + 1)
  let logTop = -n * Math.LN2;
  for (let i = 1; i <= m; i++) logTop += Math.log((n - i + 1) / i);
  let rel = 1;
  let sum = 1;
  for (let i = m; i > 0 && rel > 1e-18; i--) {
    rel *= i / (n - i + 1);
    sum += rel;
  }
  return Math.min(1, 2 * Math.exp(logTop) * sum);
}
