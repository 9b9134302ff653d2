// Fault injection, markets other than the default (issue 21): the market's fingerprint (lexicon
// content, preset, seed, sizes) is in its summary.json; the committed base model and tokenizer are
// reused only for the market, tokenizer and pretraining settings they were made with; a run folder
// holding another market, or a tokenizer made for another lexicon, stops the demo with a clear
// message instead of a silent reuse.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateMarket } from '../../pipeline/data/market/generate.ts';
import { writeMarket } from '../../pipeline/data/market/write.ts';
import { loadConfig, type MethodConfig } from '../../pipeline/stages/config.ts';
import { baseMismatch, committedBase, configFingerprint, pretrainCommand, runMethod } from '../../pipeline/stages/method.ts';
import { readBase } from '../../pipeline/stages/model-io.ts';
import { DEFAULT_MODEL } from '../../pipeline/tokenizer/tokenizer.ts';
import { committedTokenizerFor, committedTokenizers, readTokenizerRecord, recordedTokenizer, tokenizerFits, tokenizerHash, tokenizerRef, writeTokenizerRecord } from '../../pipeline/tokenizer/tokenizer-record.ts';

const dir = mkdtempSync(join(tmpdir(), 'csrm-markets-'));
const HOME_HOBBY = join(import.meta.dirname, '../../pipeline/data/lexicon/home-hobby-kr-tw.json');
const demo = loadConfig('demo');
const withLexicon = (c: MethodConfig, lexicon: string | null): MethodConfig => ({ ...c, market: { ...c.market, lexicon } });

/** A copy of the committed tokenizer whose .vocab differs by a trailing line: another tokenizer to the hashes. */
function otherTokenizer(): string {
  const d = mkdtempSync(join(dir, 'tok-'));
  const model = join(d, 'csrm-spm.model');
  copyFileSync(DEFAULT_MODEL, model);
  writeFileSync(join(d, 'csrm-spm.vocab'), readFileSync(DEFAULT_MODEL.replace(/\.model$/, '.vocab'), 'utf8') + '\n');
  return model;
}

describe('the market fingerprint', () => {
  it('is in summary.json and is what the config says: lexicon content, preset, seed, sizes', () => {
    const tiny = loadConfig('tiny');
    const out = join(dir, 'm');
    writeMarket(generateMarket({ preset: 'tiny', seed: tiny.market.seed }), out);
    const fp = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).fingerprint;
    expect(fp.sha256).toBe(configFingerprint(tiny).sha256);
    expect(fp).toMatchObject({ preset: 'tiny', seed: tiny.market.seed, lexicon: { file: expect.stringMatching(/kr-tw\.json$/) } });
    const others = [withLexicon(tiny, HOME_HOBBY), { ...tiny, market: { ...tiny.market, seed: 2 } }, { ...tiny, market: { ...tiny.market, preset: 'demo' as const } }];
    for (const c of others) expect(configFingerprint(c).sha256).not.toBe(fp.sha256);
  });
});

describe('the committed base model is reused only where it fits', () => {
  const committed = committedBase(demo);
  const fp = configFingerprint(demo);

  it('fits the config it was made by (its meta records the market, tokenizer and pretraining settings)', async () => {
    expect(await baseMismatch(committed, demo, fp, DEFAULT_MODEL)).toBeNull();
  });

  it('does not fit another lexicon, another tokenizer, other pretraining settings or another model size', async () => {
    const hh = withLexicon(demo, HOME_HOBBY);
    expect(await baseMismatch(committed, hh, configFingerprint(hh), DEFAULT_MODEL)).toMatch(/pretrained on market [0-9a-f]{12}…, this run's market is [0-9a-f]{12}… \(home-hobby-kr-tw/);
    expect(await baseMismatch(committed, demo, fp, otherTokenizer())).toMatch(/its tokenizer is .*…, this run's .*csrm-spm\.model is/);
    expect(await baseMismatch(committed, { ...demo, pretrain: { ...demo.pretrain, steps: 60 } }, fp, DEFAULT_MODEL)).toContain(`steps ${demo.pretrain.steps} (config 60)`);
    expect(await baseMismatch(committed, { ...demo, model: { preset: 'small' } }, fp, DEFAULT_MODEL)).toContain('its model is not the "small" preset');
  });
});

describe("each of the project's lexicons has a committed tokenizer and base model made for it", () => {
  for (const [name, lexicon] of [['kr-tw (default)', null], ['home-hobby-kr-tw', HOME_HOBBY]] as const) {
    it(`${name}: the demo finds and reuses them (nothing to train), and the base finds its tokenizer by hash`, async () => {
      const c = withLexicon(demo, lexicon);
      const fp = configFingerprint(c);
      const tok = committedTokenizerFor(fp);
      expect(tok).not.toBeNull();
      expect(committedTokenizers()).toContain(tok);
      expect(await baseMismatch(committedBase(c), c, fp, tok!)).toBeNull();
      const info = await readBase(committedBase(c));
      expect(info.tokenizerHash).toBe(tokenizerHash(tok!));
    });
  }

  it('the two are told apart: each lexicon gets its own tokenizer and base file, and the base of one does not fit the other', async () => {
    const hh = withLexicon(demo, HOME_HOBBY);
    const [fpD, fpH] = [configFingerprint(demo), configFingerprint(hh)];
    expect(committedTokenizerFor(fpD)).toBe(DEFAULT_MODEL);
    expect(committedTokenizerFor(fpH)).not.toBe(DEFAULT_MODEL);
    expect(committedBase(hh)).toMatch(/demo-tiny-home-hobby-kr-tw\.ckpt$/);
    expect(committedBase(withLexicon(demo, null))).toBe(committedBase(demo));
    expect(await baseMismatch(committedBase(hh), demo, fpD, DEFAULT_MODEL)).toMatch(/pretrained on market/);
    expect(pretrainCommand(hh)).toMatch(/^csrm pretrain --config demo --lexicon \S*home-hobby-kr-tw\.json --out \S*demo-tiny-home-hobby-kr-tw\.ckpt$/);
  });
});

describe('the demo never reuses what was made for another market', () => {
  it('a run folder holding another market is refused before anything is trained', async () => {
    const run = join(dir, 'run-other-market');
    const tiny = loadConfig('tiny');
    writeMarket(generateMarket({ preset: 'tiny', seed: tiny.market.seed }), join(run, 'data'));
    const err = await runMethod(withLexicon(tiny, HOME_HOBBY), run, { quiet: true, log: () => {} }).catch((e: Error) => e);
    expect(String(err)).toMatch(new RegExp(`${join(run, 'data')} is market [0-9a-f]{12}… \\(kr-tw`));
    expect(String(err)).toContain('Use another --run folder');
  });

  it('a configured tokenizer made for another lexicon is refused', async () => {
    const tok = otherTokenizer();
    writeTokenizerRecord(tok, { lexicon: { name: 'someone else', sha256: '0'.repeat(64) }, market: null, recipe: 'test', vocabSize: 3000 });
    const tiny = loadConfig('tiny');
    const err = await runMethod({ ...tiny, tokenizer: tok }, join(dir, 'run-other-tokenizer'), { quiet: true, log: () => {} }).catch((e: Error) => e);
    expect(String(err)).toContain(`tokenizer ${tok} was trained for lexicon someone else (000000000000…), this run's market is lexicon kr-tw`);
    expect(String(err)).toContain('csrm tokenizer --lexicon');
  });
});

describe('tokenizer records', () => {
  it('the committed tokenizer is taken to be made for the default lexicon', () => {
    const rec = readTokenizerRecord(DEFAULT_MODEL);
    expect(tokenizerFits(rec, configFingerprint(demo))).toBe(true);
    expect(tokenizerFits(rec, configFingerprint(withLexicon(demo, HOME_HOBBY)))).toBe(false);
  });

  it('a record that describes another model is refused', () => {
    const tok = otherTokenizer();
    writeTokenizerRecord(tok, { lexicon: null, market: null, recipe: 'test', vocabSize: 3000 });
    writeFileSync(tok.replace(/\.model$/, '.vocab'), readFileSync(tok.replace(/\.model$/, '.vocab'), 'utf8') + '\n');
    expect(() => readTokenizerRecord(tok)).toThrow(/describes tokenizer .*…, but .* is .*…: the model changed after its record was written/);
  });

  it('a model file finds its tokenizer by the recorded hash, and refuses another one', async () => {
    const tok = otherTokenizer();
    const owner = join(mkdtempSync(join(dir, 'owner-')), 'x.ckpt');
    expect(recordedTokenizer('x', owner, tokenizerRef(owner, tok)).path).toBe(tok);
    // the recorded path is gone: the committed tokenizer is used when it has the recorded hash
    expect(recordedTokenizer('x', owner, { path: 'moved/csrm-spm.model', sha256: tokenizerHash(DEFAULT_MODEL) }).path).toBe(DEFAULT_MODEL);
    expect(() => recordedTokenizer('base model x', owner, tokenizerRef(owner, tok), DEFAULT_MODEL)).toThrow(/base model x was made with tokenizer sha256 .*; --tokenizer .*csrm-spm\.model is /);
    expect(() => recordedTokenizer('base model x', owner, { path: 'gone.model', sha256: 'f'.repeat(64) })).toThrow(/recorded at .*gone\.model, which is gone; pass that tokenizer with --tokenizer FILE/);
    // a base without a record (the committed one) uses the committed tokenizer
    expect((await readBase(committedBase(demo))).tokenizer).toBe(DEFAULT_MODEL);
  });
});
