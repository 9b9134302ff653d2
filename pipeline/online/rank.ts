// The online ranking rule of section 3.5, shared by `POST /rank` and the offline ranking simulation
// (metrics.ts), so both measure the same thing: the defect model filters, the EM model orders.

/** p̂ = σ(s·c), section 3.5. */
export function relevanceProb(cosine: number, scale: number): number {
  return 1 / (1 + Math.exp(-scale * cosine));
}

/** Dot product of a query embedding with row `row` of a row-major table (cosine for unit vectors). */
export function dotRow(q: Float32Array, table: Float32Array, row: number): number {
  const d = q.length;
  const base = row * d;
  let s = 0;
  for (let j = 0; j < d; j++) s += q[j]! * table[base + j]!;
  return s;
}

export interface Scored {
  product_id: string;
  em: number;
  defect: number;
}

export interface Ranking<T extends Scored> {
  /** Kept candidates (defect < threshold), EM descending; ties keep the input order. */
  ranked: T[];
  /** Candidates with defect ≥ threshold, in input order. */
  filtered: T[];
}

/** Filters by `defect < threshold`, then a stable sort by EM descending. */
export function rankCandidates<T extends Scored>(candidates: readonly T[], threshold: number): Ranking<T> {
  const ranked: T[] = [];
  const filtered: T[] = [];
  for (const c of candidates) (c.defect < threshold ? ranked : filtered).push(c);
  ranked.sort((a, b) => b.em - a.em); // Array.prototype.sort is stable
  return { ranked, filtered };
}
