// Dictionary code-switching: a text's dictionary terms (brand names and category names, from the
// market's curated translation pairs, section 4.1.2) swapped for their translation at random. The
// pretraining corpus uses it so that one context predicts either word; fine-tuning may use it on the
// source market's relevance samples (`sft.codeSwitch`), so that a query and a listing that name one
// brand or type in two languages carry the same label — the labelling rule meets target-language
// terms before the target market's labels do (cf. CoSDA-ML, Qin et al. 2020). The swap uses only the
// curated dictionary, never a generic translator (section 3.2's objection to translating the
// training data), and leaves every label as it is: a brand or category said in the other language
// names the same brand or category.
import type { RelevanceRecord, TranslationPair } from '../data/schema.ts';
import { rng, type Rng } from '../../engine/random.ts';

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
export function codeSwitch(text: string, dict: readonly [string, string[]][], r: Rng, p: number): string {
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

/** The text fields of a relevance record that name brands and categories (the prompt's fields, RQA aside). */
const SWITCHED_FIELDS = ['query', 'query_brand', 'product_title', 'product_brand', 'product_category', 'product_description'] as const;

/** Probability that a term of a code-switched record is swapped (as in the pretraining corpus). */
export const TERM_SWITCH_P = 0.5;

/** The switch's own stream of the fine-tuning seed, so the choice of records does not move other draws. */
const switchSeed = (seed: number) => seed ^ 0xc0de5;

/**
 * `recs` with a `share` of the source market's records code-switched: each source record, in order,
 * is chosen with probability `share`, and each dictionary term in its text fields is then swapped
 * with probability TERM_SWITCH_P. Target-market records, labels, ids and order are untouched; the
 * same records, dictionary and seed give the same output.
 */
export function codeSwitchSource(recs: readonly RelevanceRecord[], source: string, pairs: readonly TranslationPair[], share: number, seed: number): RelevanceRecord[] {
  if (!(share >= 0 && share <= 1)) throw new Error(`code-switch share ${share} outside [0, 1]`);
  if (share === 0) return [...recs];
  const dict = termDictionary(pairs);
  if (dict.length === 0) throw new Error('sft.codeSwitch: the market has no brand or category translation pairs (translation/brand.*, translation/category.*) to switch with');
  const r = rng(switchSeed(seed));
  return recs.map((rec) => {
    if (rec.market !== source || !(r.uniform() < share)) return rec;
    const out: RelevanceRecord = { ...rec };
    for (const f of SWITCHED_FIELDS) out[f] = codeSwitch(rec[f], dict, r, TERM_SWITCH_P);
    return out;
  });
}
