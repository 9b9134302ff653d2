// The report's paired comparisons in words: one line per comparison under the section that states
// it, and the "Paired comparisons" section with all of them in one table, how they were computed,
// and what could not be compared.
import { formatComparison, formatP, signed } from '../eval/paired-comparison.ts';
import type { Comparisons, Section, StatedComparison } from './comparisons.ts';
import { mdTable } from './svg.ts';

const f4 = (x: number) => x.toFixed(4);

/** "What: A → B, measure 0.4500 → 0.4625, +0.0125 [−0.0040, +0.0290], p = 0.210: no detectable effect." */
export function comparisonLine(c: StatedComparison): string {
  const seeds = c.seeds > 1 ? ` (mean of ${c.seeds} seeds)` : '';
  return `${c.what}: ${c.from} → ${c.to}, ${c.measure} ${f4(c.a)} → ${f4(c.b)}${seeds}, ${formatComparison(c)}.`;
}

/** The comparisons a section states, as list items. */
export function comparisonNotes(cs: Comparisons, section: Section): string[] {
  return cs.stated.filter((c) => c.section === section).map((c) => `- ${comparisonLine(c)}`);
}

export function comparisonsSection(cs: Comparisons): string[] {
  if (cs.stated.length === 0 && cs.missing.length === 0) return [];
  const first = cs.stated[0];
  const md = ['## Paired comparisons', ''];
  if (first) {
    md.push(
      `Each difference B − A is measured on the same test samples. Its ${Math.round(first.level * 100)}% interval is the percentile interval of ${first.resamples.toLocaleString('en')} paired bootstrap resamples of the test queries (seed ${first.seed}): a query's samples are drawn together, since they are not independent of each other.` +
        (first.seeds > 1 ? ` With ${first.seeds} fine-tuning seeds the statistic is the mean difference over seeds, every seed scored on the same resampled queries.` : '') +
        " p is McNemar's exact two-sided test on per-sample correctness (pooled over seeds; it treats samples as independent, so it is optimistic when errors cluster in queries)." +
        ' The verdict reads the interval alone: "helps" when it lies above 0, "hurts" when below, "no detectable effect" when it contains 0.',
      '',
      mdTable(
        ['Section', 'What', 'A → B', 'Measure', 'A', 'B', 'B − A', '95% interval', 'p', 'Queries', 'Verdict'],
        cs.stated.map((c) => [c.section, c.what, `${c.from} → ${c.to}`, c.measure, f4(c.a), f4(c.b), signed(c.delta), `[${signed(c.lo)}, ${signed(c.hi)}]`, formatP(c.pValue), c.clusters, c.verdict]),
      ),
      '',
    );
  }
  if (cs.missing.length > 0) md.push('Not compared:', '', ...cs.missing.map((m) => `- ${m}`), '');
  return md;
}
