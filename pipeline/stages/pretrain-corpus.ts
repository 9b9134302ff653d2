// The base model's pretraining text, built from what a market folder holds (catalogue listings and
// the dictionary translation pairs; never relevance labels). A real multilingual foundation model
// has seen both languages side by side — parallel pages, mixed-language text — and that is where its
// cross-lingual transfer comes from. The stand-in gets the same kinds of text, from the market:
//   monolingual  one document per listing (title, category, description) of each market;
//   parallel     a product listed in both markets: its two titles and categories in one document;
//   code-switched a listing whose dictionary terms (brand and category names) are swapped for their
//                translation at random, so one context predicts either word and their embeddings
//                (tied to the LM head) are pulled together.
import type { CatalogueRecord, TranslationPair } from '../data/schema.ts';
import { rng, type Rng } from '../../engine/random.ts';
import type { MarketData } from './market-data.ts';

export type CorpusPart = 'monolingual' | 'parallel' | 'code-switched';

/** Names of the recipes; a committed base model is reused only when it was built from the current one. */
export const CORPUS_RECIPES: Record<string, CorpusPart[]> = {
  'listings-v2': ['monolingual'],
  'listings-bilingual-v1': ['monolingual', 'parallel', 'code-switched'],
};

/** Probability that a dictionary term of a code-switched document is replaced by its translation. */
const SWITCH_P = 0.5;

function listingDoc(c: CatalogueRecord): string {
  return [c.product_title, c.product_category, c.product_description].filter(Boolean).join(' ');
}

/**
 * Term → translations, both directions, from the brand and category dictionary pairs ("A > B" paths
 * split into their parts). Longest terms first so that a phrase is swapped before the words in it.
 */
export function termDictionary(pairs: readonly TranslationPair[]): [string, string[]][] {
  const m = new Map<string, Set<string>>();
  const add = (a: string, b: string) => {
    a = a.trim(); b = b.trim();
    if (!a || !b || a === b) return;
    if (!m.has(a)) m.set(a, new Set());
    m.get(a)!.add(b);
  };
  for (const p of pairs) {
    if (p.kind !== 'brand' && p.kind !== 'category') continue;
    const s = p.source.split(' > '), t = p.target.split(' > ');
    if (s.length !== t.length) continue;
    s.forEach((x, i) => { add(x, t[i]!); add(t[i]!, x); });
  }
  return [...m].map(([k, v]) => [k, [...v].sort()] as [string, string[]]).sort((a, b) => b[0].length - a[0].length || (a[0] < b[0] ? -1 : 1));
}

/** `text` with each dictionary term, left to right, swapped for a translation with probability p. */
export function codeSwitch(text: string, dict: readonly [string, string[]][], r: Rng, p = SWITCH_P): string {
  let out = '';
  let i = 0;
  outer: while (i < text.length) {
    for (const [term, tr] of dict) {
      if (text.startsWith(term, i)) {
        out += r.uniform() < p ? tr[r.int(tr.length)]! : term;
        i += term.length;
        continue outer;
      }
    }
    out += text[i];
    i++;
  }
  return out;
}

/** Corpus texts of a recipe, in a deterministic shuffled order (packed sequences mix markets and kinds). */
export function pretrainTexts(data: Pick<MarketData, 'source' | 'target' | 'catalogue' | 'translations'>, seed: number, recipe: string): string[] {
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
    for (const c of [...src, ...tgt]) texts.push(codeSwitch(listingDoc(c), dict, r));
  }
  for (let i = texts.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [texts[i], texts[j]] = [texts[j]!, texts[i]!];
  }
  return texts;
}
