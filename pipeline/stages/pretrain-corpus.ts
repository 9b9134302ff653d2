// The base model's pretraining text, built from what a market folder holds (catalogue listings and
// the dictionary translation pairs; never relevance labels). A real multilingual foundation model
// has seen both languages side by side — parallel pages, mixed-language text — and that is where its
// cross-lingual transfer comes from. The stand-in gets the same kinds of text, from the market:
//   monolingual  one document per listing (title, category, description) of each market;
//   parallel     a product listed in both markets: its two titles and categories in one document;
//   code-switched a listing whose dictionary terms (brand and category names) are swapped for their
//                translation at random, so one context predicts either word and their embeddings
//                (tied to the LM head) are pulled together.
import type { CatalogueRecord } from '../data/schema.ts';
import { relevanceFields } from '../prompt/relevance-prompt.ts';
import { render } from '../prompt/fit.ts';
import { rng } from '../../engine/random.ts';
import { codeSwitch, termDictionary } from './code-switch.ts';
import type { MarketData } from './market-data.ts';

export type CorpusPart = 'monolingual' | 'parallel' | 'code-switched' | 'behaviour';

/** Names of the recipes; a committed base model is reused only when it was built from the current one. */
export const CORPUS_RECIPES: Record<string, CorpusPart[]> = {
  'listings-v2': ['monolingual'],
  'listings-bilingual-v1': ['monolingual', 'parallel', 'code-switched'],
  'listings-behaviour-v1': ['monolingual', 'parallel', 'code-switched', 'behaviour'],
};

/** Most documents one clicked (query, product) pair of the behaviour log contributes (clicks beyond it add nothing). */
const MAX_DOCS_PER_PAIR = 3;

/** Probability that a dictionary term of a code-switched document is replaced by its translation. */
const SWITCH_P = 0.5;

function listingDoc(c: CatalogueRecord): string {
  return [c.product_title, c.product_category, c.product_description].filter(Boolean).join(' ');
}

/**
 * Query-likelihood documents from the source market's behaviour log: a clicked product's listing laid
 * out as the relevance prompt lays it out (product fields first, the query last), then the query. An
 * LM trained on them learns p(query | product) for products users chose — the classic query-likelihood
 * relevance signal — in the very layout Stage 1 fine-tunes on. Only the source market: Stage 1 has no
 * target-market data (section 2). Queries of the dev and test sets are held out, so nothing about the
 * evaluated pairs reaches the base model. A pair contributes one document per click, at most
 * MAX_DOCS_PER_PAIR, so popular queries do not crowd out the rest.
 */
export function behaviourDocs(data: Pick<MarketData, 'source' | 'catalogue' | 'behaviour' | 'relevance'>): string[] {
  if (!(data.source in data.behaviour)) throw new Error(`pretrain: the behaviour part needs the ${data.source} behaviour log (behaviour/${data.source}.*) of the market`);
  const held = new Set<string>();
  for (const split of ['dev', 'test'] as const) for (const m of Object.values(data.relevance)) for (const r of m[split]) held.add(r.query);
  const listings = new Map((data.catalogue[data.source] ?? []).map((c) => [c.product_id, c]));
  const docs: string[] = [];
  for (const b of data.behaviour[data.source] ?? []) {
    if (b.clicks <= 0 || held.has(b.query)) continue;
    const c = listings.get(b.product_id);
    if (!c) continue;
    const fields = relevanceFields({ ...c, query: b.query, query_brand: '', rqa: [] });
    const doc = render('', fields, '').trim();
    for (let k = 0; k < Math.min(b.clicks, MAX_DOCS_PER_PAIR); k++) docs.push(doc);
  }
  return docs;
}

/** Corpus texts of a recipe, in a deterministic shuffled order (packed sequences mix markets and kinds). */
/** What the corpus is built from: a market folder's catalogue and dictionary, and for the behaviour part its logs and splits. */
export type CorpusData = Pick<MarketData, 'source' | 'target' | 'catalogue' | 'translations'> & Partial<Pick<MarketData, 'behaviour' | 'relevance'>>;

export function pretrainTexts(data: CorpusData, seed: number, recipe: string): string[] {
  const parts = CORPUS_RECIPES[recipe];
  if (!parts) throw new Error(`pretrain: unknown corpus recipe "${recipe}" (known: ${Object.keys(CORPUS_RECIPES).join(', ')})`);
  const r = rng(seed);
  const src = data.catalogue[data.source] ?? [], tgt = data.catalogue[data.target] ?? [];
  const texts: string[] = [];
  if (parts.includes('monolingual')) for (const c of [...src, ...tgt]) texts.push(listingDoc(c));
  if (parts.includes('parallel')) {
    const byId = new Map(tgt.map((c) => [c.product_id, c]));
    for (const a of src) {
      const b = byId.get(a.product_id);
      if (!b) continue;
      const [x, y] = r.uniform() < 0.5 ? [a, b] : [b, a];
      texts.push(`${x.product_title} ${x.product_category} = ${y.product_title} ${y.product_category}`);
    }
  }
  if (parts.includes('code-switched')) {
    const dict = termDictionary(data.translations);
    for (const c of [...src, ...tgt]) texts.push(codeSwitch(listingDoc(c), dict, r, SWITCH_P));
  }
  if (parts.includes('behaviour')) {
    const dict = termDictionary(data.translations);
    // half the documents code-switched, so target-language terms meet the same query contexts
    for (const d of behaviourDocs({ ...data, behaviour: data.behaviour ?? {}, relevance: data.relevance ?? {} })) texts.push(r.uniform() < 0.5 ? codeSwitch(d, dict, r, SWITCH_P) : d);
  }
  for (let i = texts.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [texts[i], texts[j]] = [texts[j]!, texts[i]!];
  }
  return texts;
}
