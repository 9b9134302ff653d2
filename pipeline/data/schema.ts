// The three record kinds of the data layer, named after the paper (Table 1, section 4.1.2) and
// described as field specs so that every reader validates the same way whatever the file format.

/** Relevance levels as the model generates them (section 4.2): 0 irrelevant, 1 substitute, 2 exact. */
export type Label = 0 | 1 | 2;
export const LABELS: readonly Label[] = [0, 1, 2];
export const LABEL_NAMES: Record<Label, string> = { 0: 'irrelevant', 1: 'substitute', 2: 'exact' };

export type Split = 'train' | 'dev' | 'test';
export const SPLITS: readonly Split[] = ['train', 'dev', 'test'];

/** Query intents of the synthetic market; imported data uses 'unknown'. */
export type Intent =
  | 'type' | 'type_attr' | 'brand' | 'brand_type' | 'category' | 'english_brand' | 'alias' | 'unknown';
export const INTENTS: readonly Intent[] =
  ['type', 'type_attr', 'brand', 'brand_type', 'category', 'english_brand', 'alias', 'unknown'];

/** One query-product sample with the features of Table 1. */
export interface RelevanceRecord {
  query_id: string;
  product_id: string;
  /** Links a source-market sample to its translated target-market twin (eq. 6); '' when it has none. */
  pair_id: string;
  market: string;
  language: string;
  split: Split;
  intent: Intent;
  query: string;
  /** Brand named in the query, found by dictionary match; '' when none. */
  query_brand: string;
  product_title: string;
  product_description: string;
  product_brand: string;
  product_category: string;
  /** Retrieval-based query augmentation: titles retrieved for the query, filled by a later stage. */
  rqa: string[];
  /** The (possibly noisy) human label that training sees. */
  label: Label;
  /** Generator ground truth, for diagnostics only; -1 where unknown (all real data). */
  true_label: Label | -1;
}

/**
 * The four kinds of section 4.1.2, plus 'word': general word mappings from the Korean–Hanja–CEDICT
 * dictionary bridge (an extension, off unless asked for).
 */
export type TranslationKind = 'category' | 'brand' | 'title' | 'query' | 'word';
export const TRANSLATION_KINDS: readonly TranslationKind[] = ['category', 'brand', 'title', 'query', 'word'];

/** One human-curated mapping of section 4.1.2. */
export interface TranslationPair {
  kind: TranslationKind;
  source_language: string;
  target_language: string;
  source: string;
  target: string;
}

/** Aggregated user behaviour for one query-product pair in one market. */
export interface BehaviourRecord {
  market: string;
  query_id: string;
  query: string;
  product_id: string;
  impressions: number;
  clicks: number;
  purchases: number;
}

/** One listing of the product catalogue of a market: what a retriever may index. */
export interface CatalogueRecord {
  market: string;
  language: string;
  product_id: string;
  product_title: string;
  product_description: string;
  product_brand: string;
  product_category: string;
}

export type FieldType = 'string' | 'int' | 'label' | 'label_or_unknown' | 'string_list' | 'enum';
export interface FieldSpec {
  name: string;
  type: FieldType;
  /** Allowed values of an 'enum' field. */
  values?: readonly string[];
  /** Longest string accepted (in UTF-16 units); longer ones are reported, not truncated. */
  maxLength?: number;
  /** Fields that may be absent on read; they get this default. */
  optionalDefault?: unknown;
}

export type RecordKind = 'relevance' | 'translation' | 'behaviour' | 'catalogue';

const TEXT = 4000;
const SHORT = 400;

export const SCHEMAS: Record<RecordKind, FieldSpec[]> = {
  relevance: [
    { name: 'query_id', type: 'string', maxLength: SHORT, optionalDefault: '' },
    { name: 'product_id', type: 'string', maxLength: SHORT, optionalDefault: '' },
    { name: 'pair_id', type: 'string', maxLength: SHORT, optionalDefault: '' },
    { name: 'market', type: 'string', maxLength: 16 },
    { name: 'language', type: 'string', maxLength: 16 },
    { name: 'split', type: 'enum', values: SPLITS },
    { name: 'intent', type: 'enum', values: INTENTS, optionalDefault: 'unknown' },
    { name: 'query', type: 'string', maxLength: SHORT },
    { name: 'query_brand', type: 'string', maxLength: SHORT, optionalDefault: '' },
    { name: 'product_title', type: 'string', maxLength: TEXT },
    { name: 'product_description', type: 'string', maxLength: TEXT, optionalDefault: '' },
    { name: 'product_brand', type: 'string', maxLength: SHORT, optionalDefault: '' },
    { name: 'product_category', type: 'string', maxLength: SHORT, optionalDefault: '' },
    { name: 'rqa', type: 'string_list', maxLength: TEXT, optionalDefault: [] },
    { name: 'label', type: 'label' },
    { name: 'true_label', type: 'label_or_unknown', optionalDefault: -1 },
  ],
  translation: [
    { name: 'kind', type: 'enum', values: TRANSLATION_KINDS },
    { name: 'source_language', type: 'string', maxLength: 16 },
    { name: 'target_language', type: 'string', maxLength: 16 },
    { name: 'source', type: 'string', maxLength: TEXT },
    { name: 'target', type: 'string', maxLength: TEXT },
  ],
  behaviour: [
    { name: 'market', type: 'string', maxLength: 16 },
    { name: 'query_id', type: 'string', maxLength: SHORT },
    { name: 'query', type: 'string', maxLength: SHORT },
    { name: 'product_id', type: 'string', maxLength: SHORT },
    { name: 'impressions', type: 'int' },
    { name: 'clicks', type: 'int' },
    { name: 'purchases', type: 'int' },
  ],
  catalogue: [
    { name: 'market', type: 'string', maxLength: 16 },
    { name: 'language', type: 'string', maxLength: 16 },
    { name: 'product_id', type: 'string', maxLength: SHORT },
    { name: 'product_title', type: 'string', maxLength: TEXT },
    { name: 'product_description', type: 'string', maxLength: TEXT, optionalDefault: '' },
    { name: 'product_brand', type: 'string', maxLength: SHORT, optionalDefault: '' },
    { name: 'product_category', type: 'string', maxLength: SHORT, optionalDefault: '' },
  ],
};

export interface RecordOf {
  relevance: RelevanceRecord;
  translation: TranslationPair;
  behaviour: BehaviourRecord;
  catalogue: CatalogueRecord;
}
