// Importer for Amazon's Shopping Queries Dataset (ESCI; Reddy et al. 2022, Apache-2.0).
// ESCI grades a product for a query as E(xact), S(ubstitute), C(omplement) or I(rrelevant). The paper's
// three levels keep E and S as they are; a complement (a charger for a phone) is not a substitute,
// so C becomes irrelevant unless the caller says otherwise.
import { readCsvFile } from '../csv-file.ts';
import { collect, type ReadMode, type ReadResult } from '../records.ts';
import type { Label, RelevanceRecord, Split } from '../schema.ts';
import { validateRow } from '../validate.ts';

export type EsciLetter = 'E' | 'S' | 'C' | 'I';

export interface EsciOptions {
  mode: ReadMode;
  /** Label given to C (complement); irrelevant (0) by default. */
  complementLabel?: Label;
  /** For extracts without an esci_label column (e.g. exact-only samples): the letter every row has. */
  assumeLabel?: EsciLetter;
  /** Split for rows without a `split` column. */
  defaultSplit?: Split;
  log?: (line: string) => void;
}

const LOCALE_LANGUAGE: Record<string, string> = { us: 'en', es: 'es', jp: 'ja' };

export function esciLabel(letter: string, complementLabel: Label = 0): Label | null {
  switch (letter.trim().toUpperCase()) {
    case 'E': return 2;
    case 'S': return 1;
    case 'C': return complementLabel;
    case 'I': return 0;
    default: return null;
  }
}

/** Reads an ESCI CSV (full merged schema or an extract) into relevance records. */
export function importEsci(file: string, opts: EsciOptions): ReadResult<RelevanceRecord> {
  const { rows } = readCsvFile(file);
  const raw = rows.map((r) => ({ row: r.line, value: r.row as Record<string, unknown>, fromText: true }));
  return collect(file, raw, opts.mode, (row) => {
    const r = row as Record<string, string | undefined>;
    const letter = r.esci_label ?? opts.assumeLabel;
    if (letter === undefined) return { ok: false, reason: "missing field 'esci_label' (pass assumeLabel for label-less extracts)" };
    const label = esciLabel(letter, opts.complementLabel);
    if (label === null) return { ok: false, reason: `unknown ESCI label '${letter}'` };
    // One public extract joins title and description in product_text; it then serves as the title.
    const title = r.product_title ?? r.product_text;
    const locale = (r.product_locale ?? 'us').trim();
    const split = r.split === 'test' ? 'test' : r.split === 'train' ? 'train' : (opts.defaultSplit ?? 'train');
    return validateRow('relevance', {
      query_id: r.query_id ?? '',
      product_id: r.product_id ?? '',
      pair_id: '',
      market: locale,
      language: LOCALE_LANGUAGE[locale] ?? locale,
      split,
      intent: 'unknown',
      query: r.query?.trim(),
      query_brand: '',
      product_title: title,
      product_description: r.product_description ?? '',
      product_brand: r.product_brand ?? '',
      product_category: '',
      rqa: '',
      label: String(label),
      true_label: '-1',
    }, true);
  }, opts.log);
}
