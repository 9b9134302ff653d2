// The four auxiliary translation tasks of section 4.1.2, source language → target language:
// category names, brand names, product titles and queries. Titles and queries are the two markets'
// renderings of one concept, so the pair is a faithful (human-style) translation.
import type { TranslationKind, TranslationPair } from '../schema.ts';
import { forms, type Lexicon } from './lexicon.ts';
import type { Rng } from './rng.ts';

export function dictionaryPairs(lex: Lexicon, kind: 'category' | 'brand'): [string, string][] {
  const src = lex.source.language, tgt = lex.target.language;
  const out: [string, string][] = [];
  if (kind === 'category') {
    const topName = new Map(lex.top.map((t) => [t.id, t]));
    for (const t of lex.top) for (const s of forms(t, src)) out.push([s, forms(t, tgt)[0]]);
    for (const t of lex.types) {
      const top = topName.get(t.top)!;
      for (const s of forms(t, src)) out.push([s, forms(t, tgt)[0]]);
      out.push([`${forms(top, src)[0]} > ${forms(t, src)[0]}`, `${forms(top, tgt)[0]} > ${forms(t, tgt)[0]}`]);
    }
  } else {
    for (const b of lex.brands) for (const s of forms(b, src)) out.push([s, forms(b, tgt)[0]]);
    for (const l of lex.lines) out.push([forms(l, src)[0], forms(l, tgt)[0]]);
  }
  return out;
}

/** Up to `n` distinct pairs, in a seeded order; fewer when the source has fewer. */
export function samplePairs(
  lex: Lexicon, kind: TranslationKind, pairs: [string, string][], n: number, rng: Rng,
): TranslationPair[] {
  const seen = new Set<string>();
  const uniq = pairs.filter(([s, t]) => s && t && !seen.has(s + '\u0000' + t) && seen.add(s + '\u0000' + t));
  return rng.shuffle(uniq).slice(0, n).map(([source, target]) => ({
    kind, source_language: lex.source.language, target_language: lex.target.language, source, target,
  }));
}
