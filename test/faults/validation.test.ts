// Fault injection, settings (issue 15, cases 3, 5 and 8): a config's every section is checked by the
// one knob table, each error naming the file and the key path; the command line's flags go through
// the same checks before anything runs — α with soft labels in [0, 1), fractions in (0, 1], steps ≥ 1
// — and `csrm rqa --ranker` refuses a folder without a finished ranker instead of training silently.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { csrm } from '../../pipeline/cli/csrm.ts';
import { generateMarket } from '../../pipeline/data/market/generate.ts';
import { writeMarket } from '../../pipeline/data/market/write.ts';
import { configPath, loadConfig } from '../../pipeline/stages/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'csrm-validation-'));
const tiny = JSON.parse(readFileSync(configPath('tiny'), 'utf8'));
const BASE = join(import.meta.dirname, '../../pipeline/base/demo-tiny.ckpt');

/** A copy of the tiny config with `patch(c)` applied, as a file. */
function configWith(patch: (c: Record<string, any>) => void): string {
  const c = structuredClone(tiny);
  patch(c);
  const f = join(mkdtempSync(join(dir, 'c-')), 'config.json');
  writeFileSync(f, JSON.stringify(c));
  return f;
}

describe('every section of a config file is checked, the error naming the file and the key path', () => {
  it.each<[string, (c: Record<string, any>) => void, RegExp]>([
    ['"lr": "fast"', (c) => { c.sft.lr = 'fast'; }, /sft\.lr "fast" must be a number > 0/],
    ['pretrain.lr "fast"', (c) => { c.pretrain.lr = 'fast'; }, /pretrain\.lr "fast" must be a number > 0/],
    ['pretrain.steps -5', (c) => { c.pretrain.steps = -5; }, /pretrain\.steps -5 must be a positive integer/],
    ['sd.alpha 2', (c) => { c.sd.alpha = 2; }, /sd\.alpha 2 outside \[0, 1\]/],
    ['sd.alpha 1 with rounds', (c) => { c.sd.alpha = 1; }, /sd\.alpha 1: self-distillation needs α < 1/],
    ['figure3 fraction 1.5', (c) => { c.figure3.fractions = [0.5, 1.5]; }, /figure3\.fractions \[0\.5,1\.5\] must be a list whose every entry is inside \(0, 1\)/],
    ['rqa.ranker.steps 0', (c) => { c.rqa.ranker.steps = 0; }, /rqa\.ranker\.steps 0 must be a positive integer/],
    ['online.steps "many"', (c) => { c.online = { steps: 'many' }; }, /online\.steps "many" must be a positive integer/],
    ['market.preset', (c) => { c.market.preset = 'huge'; }, /market\.preset "huge" is not one of "tiny", "demo", "paper"/],
    ['a misspelt key', (c) => { c.market.lexcon = 'x.json'; }, /market\.lexcon is not a knob \(known: preset, seed, dev, test, lexicon\)/],
    ['a missing lexicon file', (c) => { c.market.lexicon = 'nope.json'; }, /market\.lexicon ".*\/nope\.json" is not a file/],
    ['model.preset', (c) => { c.model.preset = 'giant'; }, /model\.preset "giant" is not one of/],
    ['a missing section', (c) => { delete c.sd; }, /missing "sd"/],
  ])('%s', (_, patch, why) => {
    const f = configWith(patch);
    expect(() => loadConfig(f)).toThrow(why);
    expect(() => loadConfig(f)).toThrow(`config ${f}: `);
  });

  it('paths in a config are relative to its file', () => {
    const f = configWith((c) => { c.market.lexicon = join(import.meta.dirname, '../../pipeline/data/lexicon/home-hobby-kr-tw.json'); });
    expect(loadConfig(f).market.lexicon).toMatch(/home-hobby-kr-tw\.json$/);
  });
});

describe('flags go through the same checks before anything runs', () => {
  const run = join(dir, 'run');
  const data = join(run, 'data');
  writeMarket(generateMarket({ preset: 'tiny', seed: 4 }), data);
  const sft = (...extra: string[]) => csrm(['sft', '--run', run, '--name', 'try', '--stage', '2', '--base', BASE, '--config', 'tiny', ...extra]);

  it.each([
    [['--alpha', '2', '--soft-labels', 'x.jsonl'], 'csrm sft: --alpha 2 outside [0, 1]'],
    [['--alpha', '1', '--soft-labels', 'x.jsonl'], 'csrm sft: --alpha 1 with soft labels must be < 1'],
    [['--alpha', '0.5'], 'csrm sft: --alpha 0.5 without soft labels'],
    [['--target-fraction', '0'], 'csrm sft: --target-fraction 0 outside (0, 1]'],
    [['--target-fraction', '-1'], 'csrm sft: --target-fraction -1 outside (0, 1]'],
    [['--target-fraction', '1.5'], 'csrm sft: --target-fraction 1.5 outside (0, 1]'],
    [['--steps', '-5'], 'csrm sft: --steps -5 must be a positive integer'],
    [['--steps', '2.5'], 'csrm sft: --steps 2.5 must be a positive integer'],
    [['--stage', '3'], 'csrm sft: --stage 3 is not one of 1, 2'],
  ])('csrm sft %j is refused', async (extra, why) => {
    await expect(sft(...extra)).rejects.toThrow(why);
  });

  it('csrm label --target-fraction 1.5 and csrm pretrain --steps -5 are refused', async () => {
    await expect(csrm(['label', '--run', run, '--from', 'x', '--data', data, '--base', BASE, '--out', join(run, 'l.jsonl'), '--target-fraction', '1.5'])).rejects.toThrow('csrm label: --target-fraction 1.5 outside (0, 1]');
    await expect(csrm(['pretrain', '--data', data, '--out', join(run, 'b.ckpt'), '--steps', '-5'])).rejects.toThrow('csrm pretrain: --steps -5 must be a positive integer');
  });

  it('csrm rqa --ranker /nonexistent is refused instead of training a ranker there', async () => {
    await expect(csrm(['rqa', '--data', data, '--base', BASE, '--out', join(run, 'rqa'), '--ranker', join(dir, 'nonexistent'), '--config', 'tiny']))
      .rejects.toThrow(`--ranker ${join(dir, 'nonexistent')}: no finished conversion ranker there (no such folder)`);
  });
});
