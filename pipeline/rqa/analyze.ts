// Terms for BM25 (section 3.3). Chinese and Korean titles have no reliable word spaces, so runs of
// CJK/Hangul/kana characters become character uni- and bi-grams; Latin letters and digits become
// lower-cased word tokens. Sentencepiece pieces can be used instead or as well, through a plain
// `encodePieces(text) => string[]` function, so the tokenizer plugs in without a dependency here.

/** Maps a text to its terms (duplicates kept: they are term frequencies). */
export type Analyzer = (text: string) => string[];

export type EncodePieces = (text: string) => string[];

// Ideographs, Hangul syllables/jamo and kana: scripts written without spaces between words.
const CJK = String.raw`\p{Script=Han}\p{Script=Hangul}\p{Script=Hiragana}\p{Script=Katakana}`;
const CJK_CHAR = new RegExp(`[${CJK}]`, 'u');
// A CJK run, or a run of other letters/digits that stops at the first CJK character ("6入" → "6", "入").
const TOKEN = new RegExp(`[${CJK}]+|(?:(?![${CJK}])[\\p{L}\\p{N}])+`, 'gu');

/** NFKC folds full-width Latin and digits (Ｎｉｋｅ, １０４ｇ) into their ASCII forms before lower-casing. */
export function normalise(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/** Character uni- and bi-grams of CJK/Hangul runs; lower-cased word tokens for everything else. */
export function ngramTerms(text: string): string[] {
  const out: string[] = [];
  for (const m of normalise(text).matchAll(TOKEN)) {
    const run = m[0];
    if (!CJK_CHAR.test(run)) {
      out.push(run);
      continue;
    }
    const chars = Array.from(run); // code points, so astral ideographs stay whole
    for (let i = 0; i < chars.length; i++) {
      out.push(chars[i]!);
      if (i + 1 < chars.length) out.push(chars[i]! + chars[i + 1]!);
    }
  }
  return out;
}

// Sentencepiece marks word starts with U+2581; the marker alone carries no meaning.
const SP_SPACE = /\u2581/g;

/** Sentencepiece pieces as terms, without the word-start marker and lower-cased. */
export function pieceTerms(encodePieces: EncodePieces, text: string): string[] {
  const out: string[] = [];
  for (const p of encodePieces(normalise(text))) {
    const t = p.replace(SP_SPACE, '');
    if (t !== '') out.push(t);
  }
  return out;
}

export interface AnalyzerOpts {
  /** Character n-grams and word tokens (default true). */
  ngrams?: boolean;
  /** Sentencepiece encoder; when set, its pieces are terms too. */
  encodePieces?: EncodePieces;
}

// A piece equal to an n-gram is a different kind of evidence; the prefix keeps their statistics apart.
const PIECE_PREFIX = '\u0001';

/** An analyzer from n-grams, pieces or both. */
export function analyzer(opts: AnalyzerOpts = {}): Analyzer {
  const ngrams = opts.ngrams ?? true;
  const enc = opts.encodePieces;
  if (!ngrams && !enc) throw new Error('analyzer: needs ngrams or encodePieces');
  if (!enc) return ngramTerms;
  if (!ngrams) return (text) => pieceTerms(enc, text);
  return (text) => [...ngramTerms(text), ...pieceTerms(enc, text).map((p) => PIECE_PREFIX + p)];
}
