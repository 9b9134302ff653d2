// Paired cluster bootstrap of a difference of metrics, B − A, on one test set. The samples of a
// test query share the query (its text, its intent, related products), so they are not independent:
// the unit resampled is the query (the cluster), drawn C times with replacement from the C queries.
// Both models are scored on the same resampled queries each time, so what the two share cancels in
// the difference (paired). With several fine-tuning seeds (same test set, one A/B pair per seed),
// the statistic is the mean over seeds of the difference, and one draw of queries serves every seed.
// The interval is the percentile interval of the resampled differences (Efron & Tibshirani 1993,
// ch. 13). Clusters are taken in sorted id order, so the result does not depend on sample order.
import { rng } from '../../engine/random.ts';
import type { CountMetric } from './count-metrics.ts';

/** Resamples of the report (the issue asks for ≥ 2,000). */
export const BOOTSTRAP_RESAMPLES = 2000;
export const BOOTSTRAP_SEED = 2024;
export const BOOTSTRAP_LEVEL = 0.95;

export interface PairedBootstrapInput {
  metric: CountMetric;
  /** The cluster (test query id) of each sample. */
  clusters: ArrayLike<string>;
  /** Per-sample counts (n × width) of model A and model B, one pair per fine-tuning seed. */
  pairs: readonly { a: Float64Array; b: Float64Array }[];
}

export interface BootstrapOpts {
  resamples?: number;
  seed?: number;
  /** Coverage of the interval; 0.95 by default. */
  level?: number;
}

export interface BootstrapInterval {
  metric: string;
  /** A's and B's metric on the whole test set (mean over seeds). */
  a: number;
  b: number;
  /** b − a: the point estimate (mean over seeds). */
  delta: number;
  /** Percentile interval of the resampled differences. */
  lo: number;
  hi: number;
  level: number;
  /** Standard deviation of the resampled differences (the bootstrap standard error). */
  se: number;
  resamples: number;
  seed: number;
  samples: number;
  clusters: number;
  seeds: number;
}

/** Quantile of sorted values by linear interpolation between order statistics (Hyndman–Fan type 7). */
export function quantileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new Error('quantileSorted: no values');
  if (!(p >= 0 && p <= 1)) throw new Error(`quantileSorted: p ${p} outside [0, 1]`);
  const h = (n - 1) * p;
  const f = Math.floor(h);
  if (f >= n - 1) return sorted[n - 1]!;
  const lo = sorted[f]!;
  const hi = sorted[f + 1]!;
  return lo === hi ? lo : lo + (h - f) * (hi - lo);
}

/** Per-cluster sums of per-sample counts: C × width, clusters indexed by `index`. */
function clusterSums(counts: Float64Array, index: Int32Array, C: number, w: number): Float64Array {
  const out = new Float64Array(C * w);
  for (let i = 0; i < index.length; i++) {
    const c = index[i]!;
    for (let j = 0; j < w; j++) out[c * w + j]! += counts[i * w + j]!;
  }
  return out;
}

export function pairedBootstrap(input: PairedBootstrapInput, opts: BootstrapOpts = {}): BootstrapInterval {
  const { metric, clusters, pairs } = input;
  const resamples = opts.resamples ?? BOOTSTRAP_RESAMPLES;
  const seed = opts.seed ?? BOOTSTRAP_SEED;
  const level = opts.level ?? BOOTSTRAP_LEVEL;
  if (!(Number.isInteger(resamples) && resamples >= 1)) throw new Error(`pairedBootstrap: resamples must be a positive integer, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new Error(`pairedBootstrap: level ${level} outside (0, 1)`);
  const n = clusters.length;
  const w = metric.width;
  if (n === 0) throw new Error('pairedBootstrap: no samples');
  if (pairs.length === 0) throw new Error('pairedBootstrap: no A/B pair to compare');
  pairs.forEach((p, s) => {
    for (const [k, v] of [['a', p.a], ['b', p.b]] as const) {
      if (v.length !== n * w) throw new Error(`pairedBootstrap: seed ${s} model ${k.toUpperCase()} has ${v.length} counts, expected ${n} samples × ${w} = ${n * w}`);
    }
  });

  const ids = [...new Set(Array.from(clusters))].sort();
  const pos = new Map(ids.map((id, i) => [id, i]));
  const index = Int32Array.from(Array.from(clusters), (id) => pos.get(id)!);
  const C = ids.length;
  const S = pairs.length;
  const sums = pairs.map((p) => ({ a: clusterSums(p.a, index, C, w), b: clusterSums(p.b, index, C, w) }));

  const sa = new Float64Array(w);
  const sb = new Float64Array(w);
  /** Mean over seeds of value(B) − value(A) with cluster c counted weight[c] times. */
  const statistic = (weight: ArrayLike<number>): { a: number; b: number; d: number } => {
    let ta = 0;
    let tb = 0;
    let td = 0;
    for (const { a, b } of sums) {
      sa.fill(0);
      sb.fill(0);
      for (let c = 0; c < C; c++) {
        const k = weight[c]!;
        if (k === 0) continue;
        for (let j = 0; j < w; j++) {
          sa[j]! += k * a[c * w + j]!;
          sb[j]! += k * b[c * w + j]!;
        }
      }
      const va = metric.value(sa);
      const vb = metric.value(sb);
      ta += va;
      tb += vb;
      td += vb - va;
    }
    return { a: ta / S, b: tb / S, d: td / S };
  };

  const full = statistic(new Float64Array(C).fill(1));
  const r = rng(seed);
  const weight = new Float64Array(C);
  const deltas = new Float64Array(resamples);
  for (let t = 0; t < resamples; t++) {
    weight.fill(0);
    for (let j = 0; j < C; j++) weight[r.int(C)]!++;
    deltas[t] = statistic(weight).d;
  }
  let mean = 0;
  for (const d of deltas) mean += d / resamples;
  let v = 0;
  for (const d of deltas) v += (d - mean) ** 2;
  deltas.sort();
  const tail = (1 - level) / 2;
  return {
    metric: metric.name,
    a: full.a,
    b: full.b,
    delta: full.d,
    lo: quantileSorted(deltas, tail),
    hi: quantileSorted(deltas, 1 - tail),
    level,
    se: resamples > 1 ? Math.sqrt(v / (resamples - 1)) : 0,
    resamples,
    seed,
    samples: n,
    clusters: C,
    seeds: S,
  };
}
