// The text a market's sentencepiece model is trained on (csrm tokenizer, scripts/train-tokenizer.sh),
// so that the market's words and the prompts' fixed words tokenize into few pieces:
//  - from a lexicon (recipe LEXICON_RECIPE): every string of the lexicon, and the catalogue, queries,
//    translation pairs and whole prompts of two corpus-sized markets generated from it (the paper
//    preset at seeds 101 and 102, without sessions) — the run's own preset and seed do not matter;
//  - from a market folder without a lexicon (MARKET_TEXT_RECIPE, e.g. imported real data): the
//    folder's catalogue, queries, translation pairs and prompts.
// Plus the prompts' fixed words, for --user_defined_symbols_file.
import { generateMarket } from '../data/market/generate.ts';
import type { Lexicon } from '../data/market/lexicon.ts';
import type { CatalogueRecord, RelevanceRecord, TranslationPair } from '../data/schema.ts';
import { buildRelevancePrompt } from '../prompt/relevance-prompt.ts';
import { promptSymbols } from '../prompt/symbols.ts';
import { buildTranslationPrompt } from '../prompt/translation-prompt.ts';

export const LEXICON_RECIPE = 'lexicon-paper-101-102-v1';
export const MARKET_TEXT_RECIPE = 'market-text-v1';

export interface TokenizerCorpus {
  lines: string[];
  /** The prompts' fixed words, spaces written as U+2581 (spm_train matches symbols in whitespace-escaped text). */
  symbols: string[];
}

/** Distinct non-empty lines, in first-seen order; whole prompts are kept even when repeated. */
function corpusBuilder() {
  const lines: string[] = [];
  const seen = new Set<string>();
  return {
    lines,
    add(s: string) {
      for (const l of s.split('\n')) if (l.trim() && !seen.has(l)) { seen.add(l); lines.push(l); }
    },
    /** Whole prompts, each as one line: spm_train finds candidate pieces among distinct sentences, so the fixed instruction only becomes whole pieces if it occurs inside many different lines. */
    prompt(s: string) {
      lines.push(s.replace(/\n/g, ' '));
    },
  };
}

function addMarketText(c: ReturnType<typeof corpusBuilder>, m: { catalogue: CatalogueRecord[]; relevance: RelevanceRecord[]; translations: TranslationPair[] }): void {
  for (const p of m.catalogue) { c.add(p.product_title); c.add(p.product_description); c.add(p.product_category); c.add(p.product_brand); }
  for (const r of m.relevance) c.add(r.query);
  for (const t of m.translations) { c.add(t.source); c.add(t.target); }
  for (const r of m.relevance.slice(0, 3000)) c.prompt(buildRelevancePrompt({ ...r, rqa: [r.product_title, r.query] }).prompt);
  for (const t of m.translations.slice(0, 500)) c.prompt(buildTranslationPrompt(t).prompt);
}

const symbolsOf = (source: string, target: string) => promptSymbols(source, target).map((s) => s.replace(/ /g, '\u2581'));

export function lexiconCorpus(lexicon: Lexicon): TokenizerCorpus {
  const c = corpusBuilder();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') c.add(v.replace(/\{\w+\}/g, ' '));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(lexicon);
  for (const seed of [101, 102]) addMarketText(c, generateMarket({ preset: 'paper', seed, lexicon, size: { sourceSessions: 0, targetSessions: 0 } }));
  return { lines: c.lines, symbols: symbolsOf(lexicon.source.language, lexicon.target.language) };
}

export function marketTextCorpus(m: { catalogue: CatalogueRecord[]; relevance: RelevanceRecord[]; translations: TranslationPair[]; source: string; target: string }): TokenizerCorpus {
  const c = corpusBuilder();
  addMarketText(c, m);
  return { lines: c.lines, symbols: symbolsOf(m.source, m.target) };
}
