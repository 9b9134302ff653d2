// Scoring a query against stored product embeddings with both towers: p̂ = σ(s·c) for EM and for
// defect (section 3.5). Query embeddings come from the LRU cache or are computed in real time.
import { exclusive } from '../../engine/index.ts';
import type { EmbeddingTable } from './embeddings-file.ts';
import { LruCache } from './lru.ts';
import { dotRow, relevanceProb, type Scored } from './rank.ts';
import type { OnlineModels } from './types.ts';

export interface QueryEmbedding {
  em: Float32Array;
  defect: Float32Array;
}

/** Heap bytes of one cache entry: the key (UTF-16), both vectors, and the per-entry overhead of Map, object and typed arrays (≈ 200 bytes in V8). */
export function queryEntryBytes(query: string, e: QueryEmbedding): number {
  return 2 * query.length + e.em.byteLength + e.defect.byteLength + 200;
}

export class Scorer {
  readonly cache: LruCache<string, QueryEmbedding>;

  constructor(readonly models: OnlineModels, cacheSize: number, cacheBytes = Infinity) {
    if (models.em.dim !== models.defect.dim) throw new Error(`EM tower dim ${models.em.dim} ≠ defect tower dim ${models.defect.dim}`);
    this.cache = new LruCache(cacheSize, cacheBytes, queryEntryBytes);
  }

  async embedQuery(query: string): Promise<QueryEmbedding> {
    const hit = this.cache.get(query);
    if (hit) return hit;
    // concurrent requests take turns on the GPU, and the two towers run one after the other: scopes never overlap
    const [em, defect] = await exclusive(async () => [await this.models.em.encodeQueries([query]), await this.models.defect.encodeQueries([query])]);
    const e = { em: em[0]!, defect: defect[0]! };
    this.cache.set(query, e);
    return e;
  }

  /** Scores of `ids`, in request order; every id must be in `table` (checked by the caller). */
  score(table: EmbeddingTable, q: QueryEmbedding, ids: readonly string[]): Scored[] {
    return ids.map((product_id) => {
      const row = table.index.get(product_id)!;
      return {
        product_id,
        em: relevanceProb(dotRow(q.em, table.em, row), this.models.em.scale),
        defect: relevanceProb(dotRow(q.defect, table.defect, row), this.models.defect.scale),
      };
    });
  }
}
