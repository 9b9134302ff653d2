// What BM25 and EBR index for a product: its title, optionally with brand and category, which
// carry words (a brand's local name, a category path) that titles often leave out.
import type { CatalogueRecord } from '../data/schema.ts';
import type { Bm25Doc } from './bm25.ts';

export type DocFields = 'title' | 'title+brand+category';

export function catalogueDocs(records: readonly CatalogueRecord[], fields: DocFields = 'title'): Bm25Doc[] {
  return records.map((r) => ({
    id: r.product_id,
    text: fields === 'title' ? r.product_title : [r.product_title, r.product_brand, r.product_category].join(' '),
  }));
}
