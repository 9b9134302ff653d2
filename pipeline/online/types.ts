// The online relevance model of section 3.5 as the serving side sees it: a twin tower whose query and
// item outputs are compared by cosine, turned into a probability p̂ = σ(s·c). The distilled EM and
// defect towers (`twin-tower-model.ts`) and the hashed n-gram baseline (`hashed-tower.ts`) implement it.

export interface TowerModel {
  /** Embedding size (128 in the paper). */
  dim: number;
  /** s in p̂ = σ(s·c); 8 in the paper. */
  scale: number;
  /** L2-normalised query-tower embeddings, one per text. */
  encodeQueries(texts: string[]): Promise<Float32Array[]>;
  /** L2-normalised item-tower embeddings, one per item, from the product title. */
  encodeItems(items: { id: string; text: string }[]): Promise<Float32Array[]>;
}

/** The two binary models that are served (section 3.5): EM promotes, defect filters. */
export interface OnlineModels {
  em: TowerModel;
  defect: TowerModel;
}
