// A market's fingerprint: what the generator made it from — the lexicon's content, the preset, the
// seed and the sizes (with any overrides), and the dictionary bridge's word pairs when used. Two
// markets with the same fingerprint are the same market. It is written into summary.json, and the
// base model and the tokenizer record the fingerprint of the market they were made for, so the demo
// reuses them only on that market (method.ts).
import { sha256, canonicalJson, valueHash } from '../../io/content-hash.ts';
import type { Lexicon } from './lexicon.ts';
import type { MarketSize } from './presets.ts';

/**
 * The generator's revision. It goes up whenever generate.ts makes a different market from the same
 * inputs (test/pipeline/generator-revision.test.ts pins revision 1's output and fails on any change),
 * so that a base or tokenizer made on the old market is never reused on the new one. Revision 1 is
 * left out of the hash: the fingerprints recorded before the revision existed still match.
 */
export const GENERATOR_REVISION = 1;

export interface MarketFingerprint {
  /** SHA-256 of the canonical JSON of everything below. */
  sha256: string;
  lexicon: { name: string; sha256: string; file: string | null };
  preset: string;
  seed: number;
  size: MarketSize;
  /** SHA-256 of the bridge's word pairs, or null without a bridge. */
  bridge: string | null;
  /** GENERATOR_REVISION when above 1. */
  generator?: number;
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
    ...(GENERATOR_REVISION !== 1 ? { generator: GENERATOR_REVISION } : {}),
  };
  return { sha256: sha256(canonicalJson(parts)), ...parts, lexicon: { ...parts.lexicon, file: o.lexiconFile } };
}
