// The hidden truth of the synthetic market: what a product is and what a query asks for, in lexicon
// ids. Text is rendered from these; labels are judged on these, never on text.
import type { Intent } from '../schema.ts';

export interface ProductFacts {
  /** Shared across markets: the same product sold in both has one id. */
  id: string;
  type: string;
  brand: string;
  /** Product line (e.g. an essence with a nickname), or '' for ordinary products. */
  line: string;
  audience: string;
  colour?: string;
  material?: string;
  size?: string;
  pack?: number;
  /** Markets whose catalogue lists it. */
  markets: string[];
  /** Rendering choices shared by every language, so titles in two markets translate each other. */
  style: number;
}

/** What a query requires. A field that is absent is not required. */
export interface QueryRequirements {
  intent: Intent;
  type?: string;
  brand?: string;
  top?: string;
  line?: string;
  audience?: string;
  colour?: string;
  material?: string;
  size?: string;
  pack?: number;
}

export interface QueryConcept {
  id: string;
  req: QueryRequirements;
  /** The alias an alias query says (its meaning is in `req`). */
  alias?: string;
  /** Index of the query template, shared across languages. */
  template: number;
  style: number;
}
