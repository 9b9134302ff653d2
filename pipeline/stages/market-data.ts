// Loading a generated (or imported) market from its folder: relevance splits per market,
// translation pairs, behaviour logs, catalogue. Bad rows fail fast: a training run on silently
// shrunken data would be a lie.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readRecords } from '../data/records.ts';
import type { BehaviourRecord, CatalogueRecord, RelevanceRecord, Split, TranslationPair } from '../data/schema.ts';
import { readJson } from '../io/files.ts';
import { checkMarketComplete } from '../data/market/manifest.ts';

export interface MarketData {
  dir: string;
  source: string; // source market code (e.g. KR)
  target: string; // target market code (e.g. TW)
  relevance: Record<string, Record<Split, RelevanceRecord[]>>; // market → split → records
  translations: TranslationPair[];
  behaviour: Record<string, BehaviourRecord[]>;
  catalogue: Record<string, CatalogueRecord[]>;
}

function findFile(dir: string, base: string): string | null {
  for (const ext of ['jsonl', 'csv', 'parquet']) {
    const f = join(dir, `${base}.${ext}`);
    if (existsSync(f)) return f;
  }
  return null;
}

const quiet = { mode: 'fail-fast' as const, log: () => undefined };

export async function loadMarketData(dir: string): Promise<MarketData> {
  if (!existsSync(dir)) throw new Error(`market folder ${dir} does not exist (run \`csrm generate --out ${dir}\`)`);
  const summary = readJson<{ relevance: Record<string, unknown> }>(join(dir, 'summary.json'));
  checkMarketComplete(dir);
  const markets = [...new Set(Object.keys(summary.relevance).map((k) => k.split('/')[0]!))];
  if (markets.length !== 2) throw new Error(`${dir}/summary.json: expected two markets, found ${markets.join(', ')}`);
  const [source, target] = markets as [string, string];
  const relevance: MarketData['relevance'] = {};
  const behaviour: MarketData['behaviour'] = {};
  const catalogue: MarketData['catalogue'] = {};
  for (const m of markets) {
    relevance[m] = { train: [], dev: [], test: [] };
    for (const split of ['train', 'dev', 'test'] as Split[]) {
      const f = findFile(join(dir, 'relevance'), `${m}-${split}`);
      if (!f) throw new Error(`${dir}/relevance: no ${m}-${split}.{jsonl,csv,parquet}`);
      relevance[m]![split] = (await readRecords(f, { ...quiet, kind: 'relevance' })).records;
      if (relevance[m]![split].length === 0) throw new Error(`${f}: the ${m} ${split} split has no records`);
    }
    const b = findFile(join(dir, 'behaviour'), m);
    behaviour[m] = b ? (await readRecords(b, { ...quiet, kind: 'behaviour' })).records : [];
    const c = findFile(join(dir, 'catalogue'), m);
    catalogue[m] = c ? (await readRecords(c, { ...quiet, kind: 'catalogue' })).records : [];
  }
  const translations: TranslationPair[] = [];
  const tdir = join(dir, 'translation');
  if (existsSync(tdir)) {
    for (const f of readdirSync(tdir).sort()) {
      translations.push(...(await readRecords(join(tdir, f), { ...quiet, kind: 'translation' })).records);
    }
  }
  return { dir, source, target, relevance, translations, behaviour, catalogue };
}

/** A stable key of a relevance sample (soft labels are stored under it). */
export function sampleKey(r: RelevanceRecord): string {
  return `${r.market}:${r.split}:${r.query_id}:${r.product_id}`;
}
