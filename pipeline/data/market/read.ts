// Reads a market written by writeMarket (or laid out the same way by hand from real data) back
// into records, validating every row: later stages can start from files instead of the generator.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readRecords, type ReadMode } from '../records.ts';
import type { BehaviourRecord, CatalogueRecord, RelevanceRecord, TranslationPair } from '../schema.ts';
import type { MarketSummary } from './generate.ts';

export interface MarketFiles {
  relevance: RelevanceRecord[];
  catalogue: CatalogueRecord[];
  translations: TranslationPair[];
  behaviour: BehaviourRecord[];
  /** The generator's summary when the directory has one. */
  summary?: MarketSummary;
}

const FORMATS = /\.(jsonl|csv|parquet)$/;

function filesIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => FORMATS.test(f)).sort().map((f) => join(dir, f)) : [];
}

export async function readMarket(dir: string, opts: { mode: ReadMode; log?: (line: string) => void }): Promise<MarketFiles> {
  const out: MarketFiles = { relevance: [], catalogue: [], translations: [], behaviour: [] };
  const log = opts.log;
  for (const f of filesIn(join(dir, 'relevance'))) for (const r of (await readRecords(f, { mode: opts.mode, kind: 'relevance', log })).records) out.relevance.push(r);
  for (const f of filesIn(join(dir, 'catalogue'))) for (const r of (await readRecords(f, { mode: opts.mode, kind: 'catalogue', log })).records) out.catalogue.push(r);
  for (const f of filesIn(join(dir, 'translation'))) for (const r of (await readRecords(f, { mode: opts.mode, kind: 'translation', log })).records) out.translations.push(r);
  for (const f of filesIn(join(dir, 'behaviour'))) for (const r of (await readRecords(f, { mode: opts.mode, kind: 'behaviour', log })).records) out.behaviour.push(r);
  const summary = join(dir, 'summary.json');
  if (existsSync(summary)) out.summary = JSON.parse(readFileSync(summary, 'utf8')) as MarketSummary;
  return out;
}
