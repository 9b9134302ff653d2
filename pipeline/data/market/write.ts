// Writes a generated market as files: relevance splits per market, translation pairs per kind,
// behaviour logs and catalogue per market, the hidden product truth, and a summary (JSON and text).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeRecords, type Format } from '../records.ts';
import { manifestOf } from './manifest.ts';
import { LABEL_NAMES, SPLITS, TRANSLATION_KINDS, type Label } from '../schema.ts';
import type { Market, MarketSummary } from './generate.ts';

export function summaryText(s: MarketSummary): string {
  const lines = [`synthetic market: preset ${s.preset}, seed ${s.seed}`, `lexicon: ${s.lexicon}`];
  lines.push(`catalogue: ${Object.entries(s.products).map(([m, n]) => `${m} ${n}`).join(', ')} products`);
  lines.push('relevance (labels as given; noise = share differing from the truth):');
  for (const [k, v] of Object.entries(s.relevance)) {
    const dist = ([2, 1, 0] as Label[]).map((l) => `${LABEL_NAMES[l]} ${((100 * v.labels[l]) / Math.max(1, v.count)).toFixed(1)}%`).join(', ');
    lines.push(`  ${k.padEnd(9)} ${String(v.count).padStart(6)}  ${dist}  noise ${v.noiseRate === null ? 'n/a' : (100 * v.noiseRate).toFixed(1) + '%'}  alias ${(100 * v.aliasShare).toFixed(1)}%`);
  }
  lines.push(`translation pairs: ${Object.entries(s.translations).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  for (const [m, b] of Object.entries(s.behaviour))
    lines.push(`behaviour ${m}: ${b.pairs} query-product pairs, ${b.impressions} impressions, ${b.clicks} clicks, ${b.purchases} purchases`);
  return lines.join('\n') + '\n';
}

export function writeMarket(market: Market, dir: string, format: Format = 'jsonl'): string[] {
  const files: string[] = [];
  const put = <K extends 'relevance' | 'translation' | 'behaviour' | 'catalogue'>(rel: string, kind: K, rows: Parameters<typeof writeRecords<K>>[2]) => {
    const f = join(dir, `${rel}.${format}`);
    writeRecords(f, kind, rows);
    files.push(f);
  };
  for (const m of [market.source, market.target]) {
    for (const split of SPLITS) put(`relevance/${m.market}-${split}`, 'relevance', market.relevance.filter((r) => r.market === m.market && r.split === split));
    put(`catalogue/${m.market}`, 'catalogue', market.catalogue.filter((c) => c.market === m.market));
    put(`behaviour/${m.market}`, 'behaviour', market.behaviour.filter((b) => b.market === m.market));
  }
  for (const kind of TRANSLATION_KINDS) put(`translation/${kind}`, 'translation', market.translations.filter((t) => t.kind === kind));
  mkdirSync(join(dir, 'truth'), { recursive: true });
  const truth = join(dir, 'truth', 'products.jsonl');
  writeFileSync(truth, market.products.map((p) => JSON.stringify(p)).join('\n') + '\n');
  const summaryJson = join(dir, 'summary.json');
  // The hashes of what was just written, so readers refuse a file changed afterwards (manifest.ts).
  const summary = { ...market.summary, files: manifestOf(dir, [...files, truth]) };
  writeFileSync(summaryJson, JSON.stringify(summary, null, 2) + '\n');
  const readme = join(dir, 'README.md');
  writeFileSync(readme, [
    '# Generated synthetic cross-border market', '',
    'Made by `csrm generate` (pipeline/data/market). Everything here is synthetic except `word` translation pairs, when present (real dictionary entries); see pipeline/data/DATA_CARD.md.',
    ...market.attributions, '',
    '```', summaryText(market.summary).trimEnd(), '```', '',
  ].join('\n'));
  files.push(truth, summaryJson, readme);
  return files;
}
