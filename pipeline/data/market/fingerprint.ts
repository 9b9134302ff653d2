// A market's fingerprint: what the generator made it from — the lexicon's content, the preset, the
// seed and the sizes (with any overrides), and the dictionary bridge's word pairs when used. Two
// markets with the same fingerprint are the same market. It is written into summary.json, and the
// base model and the tokenizer record the fingerprint of the market they were made for, so the demo
// reuses them only on that market (method.ts).
import { sha256, canonicalJson, valueHash } from '../../io/content-hash.ts';
import type { Lexicon } from './lexicon.ts';
import type { MarketSize } from './presets.ts';

export interface MarketFingerprint {
  /** SHA-256 of the canonical JSON of everything below. */
  sha256: string;
  lexicon: { name: string; sha256: string; file: string | null };
  preset: string;
  seed: number;
  size: MarketSize;
  /** SHA-256 of the bridge's word pairs, or null without a bridge. */
  bridge: string | null;
}

/** The lexicon's content hash: its validated form with defaults filled in, as canonical JSON (file layout and key order do not count). */
export function lexiconHash(lex: Lexicon): string {
  return valueHash(lex);
}

export function marketFingerprint(o: {
  lexicon: Lexicon; lexiconFile: string | null; preset: string; seed: number; size: MarketSize; bridge?: readonly { source: string; target: string }[] | null;
}): MarketFingerprint {
  const parts = {
    lexicon: { name: o.lexicon.name, sha256: lexiconHash(o.lexicon) },
    preset: o.preset, seed: o.seed, size: o.size,
    bridge: o.bridge && o.size.translations.word > 0 ? valueHash(o.bridge) : null,
  };
  return { sha256: sha256(canonicalJson(parts)), ...parts, lexicon: { ...parts.lexicon, file: o.lexiconFile } };
}
