// Writes the text the sentencepiece model is trained on: every surface form of the lexicon, the
// catalogue, queries and translation pairs of generated markets in both languages, and the fixed
// words of the prompts, so that all of them tokenize into few pieces.
// Also writes OUT.symbols: the prompts' fixed words, one per line, for --user_defined_symbols_file.
// usage: tsx scripts/tokenizer-corpus.ts OUT.txt
import { writeFileSync } from 'node:fs';
import { generateMarket } from '../pipeline/data/market/generate.ts';
import { loadLexicon } from '../pipeline/data/market/lexicon.ts';
import { buildRelevancePrompt } from '../pipeline/prompt/relevance-prompt.ts';
import { buildTranslationPrompt } from '../pipeline/prompt/translation-prompt.ts';
import { promptSymbols } from '../pipeline/prompt/symbols.ts';

const out = process.argv[2];
if (!out) { console.error('usage: tsx scripts/tokenizer-corpus.ts OUT.txt'); process.exit(2); }

const lines: string[] = [];
const seen = new Set<string>();
const add = (s: string) => { for (const l of s.split('\n')) if (l.trim() && !seen.has(l)) { seen.add(l); lines.push(l); } };

// Every string in the lexicon (forms, templates' fixed words).
const walk = (v: unknown): void => {
  if (typeof v === 'string') add(v.replace(/\{\w+\}/g, ' '));
  else if (Array.isArray(v)) v.forEach(walk);
  else if (v && typeof v === 'object') Object.values(v).forEach(walk);
};
const lexicon = loadLexicon();
walk(lexicon);

// A corpus-sized market: the paper preset at two seeds gives many renderings of every concept.
for (const seed of [101, 102]) {
  const m = generateMarket({ preset: 'paper', seed, size: { sourceSessions: 0, targetSessions: 0 } });
  for (const c of m.catalogue) { add(c.product_title); add(c.product_description); add(c.product_category); add(c.product_brand); }
  for (const r of m.relevance) add(r.query);
  for (const t of m.translations) { add(t.source); add(t.target); }
  // Whole prompts, each as one line: spm_train finds candidate pieces among distinct sentences, so
  // the fixed instruction only becomes whole pieces if it occurs inside many different lines.
  for (const r of m.relevance.slice(0, 3000)) lines.push(buildRelevancePrompt({ ...r, rqa: [r.product_title, r.query] }).prompt.replace(/\n/g, ' '));
  for (const t of m.translations.slice(0, 500)) lines.push(buildTranslationPrompt(t).prompt.replace(/\n/g, ' '));
}
writeFileSync(out, lines.join('\n') + '\n');
// spm_train matches symbols in whitespace-escaped text, so spaces are written as U+2581.
const symbols = promptSymbols(lexicon.source.language, lexicon.target.language).map((s) => s.replace(/ /g, '\u2581'));
writeFileSync(out.replace(/\.txt$/, '') + '.symbols', symbols.join('\n') + '\n');
console.error(`tokenizer corpus: ${lines.length} distinct lines → ${out}`);
