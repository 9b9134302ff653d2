// Importer for Wayfair's WANDS (Chen et al. 2022, MIT): three tab-separated files, query.csv
// (query_id, query, query_class), product.csv (product_id, product_name, product_class,
// category hierarchy, product_description, …) and label.csv (id, query_id, product_id, label).
// Exact → exact, Partial → substitute (the product meets part of the need), Irrelevant → irrelevant.
import { readCsvFile } from '../csv-file.ts';
import { collect, type ReadMode, type ReadResult } from '../records.ts';
import type { Label, RelevanceRecord, Split } from '../schema.ts';
import { validateRow } from '../validate.ts';

export interface WandsFiles {
  queryFile: string;
  productFile: string;
  labelFile: string;
}

export interface WandsOptions {
  mode: ReadMode;
  split?: Split;
  log?: (line: string) => void;
}

export function wandsLabel(name: string): Label | null {
  switch (name.trim().toLowerCase()) {
    case 'exact': return 2;
    case 'partial': return 1;
    case 'irrelevant': return 0;
    default: return null;
  }
}

function table(file: string): Map<string, Record<string, string>> {
  const { header, rows } = readCsvFile(file, '\t');
  const key = header[0];
  return new Map(rows.map((r) => [r.row[key], r.row]));
}

/** Joins the three WANDS files into relevance records; each label row is validated and reported. */
export function importWands(files: WandsFiles, opts: WandsOptions): ReadResult<RelevanceRecord> {
  const queries = table(files.queryFile);
  const products = table(files.productFile);
  const { rows } = readCsvFile(files.labelFile, '\t');
  const raw = rows.map((r) => ({ row: r.line, value: r.row as Record<string, unknown>, fromText: true }));
  return collect(files.labelFile, raw, opts.mode, (row) => {
    const r = row as Record<string, string | undefined>;
    const q = queries.get(r.query_id ?? '');
    const p = products.get(r.product_id ?? '');
    if (!q) return { ok: false, reason: `unknown query_id '${r.query_id}'` };
    if (!p) return { ok: false, reason: `unknown product_id '${r.product_id}'` };
    const label = wandsLabel(r.label ?? '');
    if (label === null) return { ok: false, reason: `unknown WANDS label '${r.label}'` };
    return validateRow('relevance', {
      query_id: r.query_id, product_id: r.product_id, pair_id: '',
      market: 'us', language: 'en', split: opts.split ?? 'train', intent: 'unknown',
      query: q.query, query_brand: '',
      product_title: p.product_name, product_description: p.product_description ?? '',
      product_brand: '', product_category: p.category_hierarchy ?? p.product_class ?? '',
      rqa: '', label: String(label), true_label: '-1',
    }, true);
  }, opts.log);
}
