// The RQA feature (section 3.3, Table 1): for each relevance record, the titles of the top-k
// products retrieved for its query, written into `record.rqa`. The product being judged is never
// among them (nor a listing with its exact title, nor a title twice): a title equal to the judged
// one would hand the model the product itself instead of knowledge about the query.
import type { RelevanceRecord } from '../data/schema.ts';
import { normalise } from './analyze.ts';
import { searchBatch, type Bm25Index } from './bm25.ts';

/** Product ids for each query, best first, at most n each (BM25, EBR or EBR* behind it). */
export type RetrieveIds = (queries: readonly string[], n: number) => Promise<string[][]> | string[][];

export function bm25Retriever(index: Bm25Index): RetrieveIds {
  return (queries, n) => searchBatch(index, queries, n).map((hits) => hits.map((h) => h.id));
}

export interface RqaOpts {
  k: number;
  /** Title of a catalogue product; products without one are skipped. */
  titleOf: (productId: string) => string | undefined;
}

/** The first k titles of `ids` that are not the judged product, its title, or a repeat. */
function pick(ids: readonly string[], rec: RelevanceRecord, opts: RqaOpts): string[] {
  const seen = new Set([normalise(rec.product_title.trim())]);
  const out: string[] = [];
  for (const id of ids) {
    if (out.length === opts.k) break;
    if (id === rec.product_id) continue;
    const t = opts.titleOf(id);
    if (t === undefined) continue;
    const key = normalise(t.trim());
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(t);
  }
  return out;
}

/** Records with `rqa` filled; each distinct query is retrieved once, fetching more while filtering leaves too few. */
export async function withRqa(records: readonly RelevanceRecord[], retrieve: RetrieveIds, opts: RqaOpts): Promise<RelevanceRecord[]> {
  const queries = [...new Set(records.map((r) => r.query))];
  const byQuery = new Map<string, string[]>();
  const pending = new Set(queries);
  for (let n = 2 * opts.k + 1; pending.size > 0; n *= 2) {
    const ask = [...pending];
    const asked = new Set(ask);
    const lists = await retrieve(ask, n);
    ask.forEach((q, i) => byQuery.set(q, lists[i]!));
    pending.clear();
    // A query needs more only if some record of it came up short while the list was full.
    for (const r of records) {
      const ids = byQuery.get(r.query)!;
      if (asked.has(r.query) && ids.length === n && pick(ids, r, opts).length < opts.k) pending.add(r.query);
    }
  }
  return records.map((r) => ({ ...r, rqa: pick(byQuery.get(r.query)!, r, opts) }));
}
