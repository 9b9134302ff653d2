// A result over fine-tuning seeds: mean ± sample standard deviation (n − 1 in the denominator),
// the spread a reader needs to tell a technique's effect from the luck of one seed.

export interface SeedSpread {
  n: number;
  mean: number;
  /** Sample standard deviation; null with fewer than two seeds. */
  sd: number | null;
  values: number[];
}

export function seedSpread(values: readonly number[]): SeedSpread {
  const n = values.length;
  if (n === 0) throw new Error('seedSpread: no values');
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) throw new Error(`seedSpread: value ${v} of seed ${i + 1} is not a finite number`);
  });
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const sd = n < 2 ? null : Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  return { n, mean, sd, values: [...values] };
}

/** "0.4523 ± 0.0123" (one seed: "0.4523"). */
export function formatSeedSpread(s: SeedSpread, digits = 4): string {
  return s.sd === null ? s.mean.toFixed(digits) : `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)}`;
}
