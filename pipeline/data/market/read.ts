// Reads a market written by writeMarket (or laid out the same way by hand from real data) back
// into records, validating every row: later stages can start from files instead of the generator.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readJson } from '../../io/files.ts';
import { checkMarketComplete, type MarketManifest } from './manifest.ts';
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
  /** The content hashes the summary records (checked by every reader). */
  files?: MarketManifest;
}

const FORMATS = /\.(jsonl|csv|parquet)$/;

function filesIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => FORMATS.test(f)).sort().map((f) => join(dir, f)) : [];
}

export async function readMarket(dir: string, opts: { mode: ReadMode; log?: (line: string) => void }): Promise<MarketFiles> {
  checkMarketComplete(dir);
  const out: MarketFiles = { relevance: [], catalogue: [], translations: [], behaviour: [] };
  const log = opts.log;
  for (const f of filesIn(join(dir, 'relevance'))) for (const r of (await readRecords(f, { mode: opts.mode, kind: 'relevance', log })).records) out.relevance.push(r);
  for (const f of filesIn(join(dir, 'catalogue'))) for (const r of (await readRecords(f, { mode: opts.mode, kind: 'catalogue', log })).records) out.catalogue.push(r);
  for (const f of filesIn(join(dir, 'translation'))) for (const r of (await readRecords(f, { mode: opts.mode, kind: 'translation', log })).records) out.translations.push(r);
  for (const f of filesIn(join(dir, 'behaviour'))) for (const r of (await readRecords(f, { mode: opts.mode, kind: 'behaviour', log })).records) out.behaviour.push(r);
  const summary = join(dir, 'summary.json');
  if (existsSync(summary)) {
    const { files, ...s } = readJson<MarketSummary & { files?: MarketManifest }>(summary);
    out.summary = s;
    if (files) out.files = files;
  }
  return out;
}
