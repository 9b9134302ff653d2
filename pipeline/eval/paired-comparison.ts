// One comparison the report states ("does technique X help?"): B − A on the same test samples, its
// paired query-bootstrap interval, McNemar's exact p-value on per-sample correctness, and a verdict
// read off the interval alone: "helps" when it lies above 0, "hurts" when below, otherwise "no
// detectable effect". The point estimate never decides the verdict.
import type { Scored } from './count-metrics.ts';
import { discordance, mcnemarExact, type Discordance } from './mcnemar.ts';
import { pairedBootstrap, type BootstrapInterval, type BootstrapOpts } from './paired-bootstrap.ts';

export type Verdict = 'helps' | 'hurts' | 'no detectable effect';

export function verdictOf(lo: number, hi: number): Verdict {
  if (!(lo <= hi)) throw new Error(`verdictOf: interval [${lo}, ${hi}] is not an interval`);
  return lo > 0 ? 'helps' : hi < 0 ? 'hurts' : 'no detectable effect';
}

export interface PairedComparison extends BootstrapInterval {
  /** Discordant samples, summed over seeds. */
  discordant: Discordance;
  /** Two-sided exact McNemar p-value of the pooled discordant counts. */
  pValue: number;
  verdict: Verdict;
}

/** B − A for A/B pairs scored on the same samples (one pair per fine-tuning seed). */
export function comparePaired(clusters: ArrayLike<string>, pairs: readonly { a: Scored; b: Scored }[], opts: BootstrapOpts = {}): PairedComparison {
  if (pairs.length === 0) throw new Error('comparePaired: no A/B pair');
  const metric = pairs[0]!.a.metric;
  for (const p of pairs) if (p.a.metric !== metric || p.b.metric !== metric) throw new Error(`comparePaired: every model must be scored with ${metric.name}`);
  const boot = pairedBootstrap({ metric, clusters, pairs: pairs.map((p) => ({ a: p.a.counts, b: p.b.counts })) }, opts);
  const discordant = pairs.map((p) => discordance(p.a.correct, p.b.correct)).reduce((s, d) => ({ aOnly: s.aOnly + d.aOnly, bOnly: s.bOnly + d.bOnly }), { aOnly: 0, bOnly: 0 });
  return { ...boot, discordant, pValue: mcnemarExact(discordant.aOnly, discordant.bOnly), verdict: verdictOf(boot.lo, boot.hi) };
}

/** A difference with its sign: "+0.0125", "−0.0040". */
export const signed = (x: number, digits = 4) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;

export const formatP = (p: number) => (p < 0.001 ? p.toExponential(1) : p.toFixed(3));

/** "+0.0125 [−0.0040, +0.0290], p = 0.21: no detectable effect" */
export function formatComparison(c: PairedComparison, digits = 4): string {
  return `${signed(c.delta, digits)} [${signed(c.lo, digits)}, ${signed(c.hi, digits)}], p = ${formatP(c.pValue)}: ${c.verdict}`;
}
