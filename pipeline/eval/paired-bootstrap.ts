// Paired cluster bootstrap of a difference of metrics, B − A, on one test set. The samples of a
// test query share the query (its text, its intent, related products), so they are not independent:
// the unit resampled is the query (the cluster), drawn C times with replacement from the C queries.
// Both models are scored on the same resampled queries each time, so what the two share cancels in
// the difference (paired). With several fine-tuning seeds (same test set, one A/B pair per seed),
// the statistic is the mean over seeds of the difference, and one draw of queries serves every seed.
// The interval is the percentile interval of the resampled differences (Efron & Tibshirani 1993,
// ch. 13). Clusters are taken in sorted id order, so the result does not depend on sample order.
// The same resampling gives one model's metric its interval (metricBootstrap: Figure 3's error bars).
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

/** What every cluster bootstrap reports beside its estimate. */
interface Resampling {
  level: number;
  /** Standard deviation of the resampled statistic (the bootstrap standard error). */
  se: number;
  resamples: number;
  seed: number;
  samples: number;
  clusters: number;
  seeds: number;
}

export interface BootstrapInterval extends Resampling {
  metric: string;
  /** A's and B's metric on the whole test set (mean over seeds). */
  a: number;
  b: number;
  /** b − a: the point estimate (mean over seeds). */
  delta: number;
  /** Percentile interval of the resampled differences. */
  lo: number;
  hi: number;
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

/**
 * The core: per seed, the counts of M models on the same samples; the statistic is the mean over
 * seeds of combine(metric of each model), on the full test set and on `resamples` draws of clusters.
 */
function clusterBootstrap(
  metric: CountMetric, clusters: ArrayLike<string>, seeds: readonly (readonly Float64Array[])[], combine: (v: Float64Array) => number, opts: BootstrapOpts,
): Resampling & { point: number; full: Float64Array; lo: number; hi: number } {
  const resamples = opts.resamples ?? BOOTSTRAP_RESAMPLES;
  const seed = opts.seed ?? BOOTSTRAP_SEED;
  const level = opts.level ?? BOOTSTRAP_LEVEL;
  if (!(Number.isInteger(resamples) && resamples >= 1)) throw new Error(`bootstrap: resamples must be a positive integer, got ${resamples}`);
  if (!(level > 0 && level < 1)) throw new Error(`bootstrap: level ${level} outside (0, 1)`);
  const n = clusters.length;
  const w = metric.width;
  if (n === 0) throw new Error('bootstrap: no samples');
  if (seeds.length === 0) throw new Error('bootstrap: no seed to resample');
  const M = seeds[0]!.length;
  seeds.forEach((models, s) => {
    if (models.length !== M) throw new Error(`bootstrap: seed ${s} has ${models.length} models, seed 0 has ${M}`);
    models.forEach((v, k) => {
      if (v.length !== n * w) throw new Error(`bootstrap: seed ${s} model ${String.fromCharCode(65 + k)} has ${v.length} counts, expected ${n} samples × ${w} = ${n * w}`);
    });
  });

  const ids = [...new Set(Array.from(clusters))].sort();
  const pos = new Map(ids.map((id, i) => [id, i]));
  const index = Int32Array.from(Array.from(clusters), (id) => pos.get(id)!);
  const C = ids.length;
  const S = seeds.length;
  const sums = seeds.map((models) => models.map((v) => clusterSums(v, index, C, w)));

  const acc = new Float64Array(w);
  const vals = new Float64Array(M);
  const full = new Float64Array(M);
  /** Mean over seeds of combine(values) with cluster c counted weight[c] times; `into` gets the models' mean values. */
  const statistic = (weight: ArrayLike<number>, into?: Float64Array): number => {
    let t = 0;
    for (const models of sums) {
      models.forEach((m, k) => {
        acc.fill(0);
        for (let c = 0; c < C; c++) {
          const x = weight[c]!;
          if (x !== 0) for (let j = 0; j < w; j++) acc[j]! += x * m[c * w + j]!;
        }
        vals[k] = metric.value(acc);
        if (into) into[k]! += vals[k]! / S;
      });
      t += combine(vals);
    }
    return t / S;
  };

  const point = statistic(new Float64Array(C).fill(1), full);
  const r = rng(seed);
  const weight = new Float64Array(C);
  const draws = new Float64Array(resamples);
  for (let t = 0; t < resamples; t++) {
    weight.fill(0);
    for (let j = 0; j < C; j++) weight[r.int(C)]!++;
    draws[t] = statistic(weight);
  }
  let mean = 0;
  for (const d of draws) mean += d / resamples;
  let v = 0;
  for (const d of draws) v += (d - mean) ** 2;
  draws.sort();
  const tail = (1 - level) / 2;
  return {
    point, full, lo: quantileSorted(draws, tail), hi: quantileSorted(draws, 1 - tail),
    level, se: resamples > 1 ? Math.sqrt(v / (resamples - 1)) : 0, resamples, seed, samples: n, clusters: C, seeds: S,
  };
}

export function pairedBootstrap(input: PairedBootstrapInput, opts: BootstrapOpts = {}): BootstrapInterval {
  if (input.pairs.length === 0) throw new Error('pairedBootstrap: no A/B pair to compare');
  const r = clusterBootstrap(input.metric, input.clusters, input.pairs.map((p) => [p.a, p.b]), (v) => v[1]! - v[0]!, opts);
  const { point, full, ...rest } = r;
  return { metric: input.metric.name, a: full[0]!, b: full[1]!, delta: point, ...rest };
}

export interface MetricInterval extends Resampling {
  metric: string;
  /** The metric on the whole test set (mean over seeds). */
  value: number;
  /** Percentile interval of the resampled metric. */
  lo: number;
  hi: number;
}

/** One model's metric (mean over seeds) with its query-bootstrap interval: Figure 3's error bars. */
export function metricBootstrap(input: { metric: CountMetric; clusters: ArrayLike<string>; seeds: readonly Float64Array[] }, opts: BootstrapOpts = {}): MetricInterval {
  const { point, full, ...rest } = clusterBootstrap(input.metric, input.clusters, input.seeds.map((v) => [v]), (v) => v[0]!, opts);
  void full;
  return { metric: input.metric.name, value: point, ...rest };
}
