// Pins what the market generator makes from fixed inputs (revision 1 of GENERATOR_REVISION in
// pipeline/data/market/fingerprint.ts). A market's fingerprint names its inputs, not the generator's
// code, so a change to the generator that alters its output would make a different market under the
// same fingerprint, and the demo would reuse a base and tokenizer pretrained on the old one. When
// this fails on purpose: bump GENERATOR_REVISION, update the hashes here, and re-pretrain the
// committed bases (`csrm pretrain --config demo [--lexicon FILE] --out pipeline/base/…`).
import { describe, expect, it } from 'vitest';
import { generateMarket } from '../../pipeline/data/market/generate.ts';
import { GENERATOR_REVISION } from '../../pipeline/data/market/fingerprint.ts';
import { valueHash } from '../../pipeline/io/content-hash.ts';

// SHA-256 of the generated data (catalogue, judgements, translations, behaviour log) of the tiny preset, seed 4
const PINNED: Record<string, { lexicon?: string; sha256: string }> = {
  'kr-tw (default)': { sha256: '9d8e86468e298ff3dd40b6c59a694d7013b9c7af292e3616bfea74395e187b43' },
  'home-hobby-kr-tw': { lexicon: 'pipeline/data/lexicon/home-hobby-kr-tw.json', sha256: 'ba81839de45cdac431b090929cde1e723a9ca62fbe0f1f14bbcea36efda3cc6f' },
};

describe(`market generator, revision ${GENERATOR_REVISION}`, () => {
  for (const [name, p] of Object.entries(PINNED)) {
    it(`makes the pinned market from ${name}, tiny preset, seed 4`, () => {
      const m = generateMarket({ preset: 'tiny', seed: 4, ...(p.lexicon ? { lexicon: p.lexicon } : {}) });
      const data = { products: m.products, catalogue: m.catalogue, relevance: m.relevance, translations: m.translations, behaviour: m.behaviour };
      expect(GENERATOR_REVISION, 'these hashes are revision 1: bump the revision and the hashes together').toBe(1);
      expect(valueHash(data), 'the generator makes a different market from the same inputs: bump GENERATOR_REVISION (see this file)').toBe(p.sha256);
    });
  }
});
