// The method config is validated on load: each bad field is an error naming the file and the field.
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PRESET_SIZES } from '../../pipeline/data/market/presets.ts';
import { configPath, loadConfig, recordedSft, SFT_KNOBS } from '../../pipeline/stages/config.ts';
import { freezesEmbeddings, sftLoopConfig } from '../../pipeline/stages/sft-stage.ts';
import { trainRecord } from '../../pipeline/train/sft.ts';

const demo = JSON.parse(readFileSync(configPath('demo'), 'utf8'));

/** The demo's sft section without the knobs whose defaults these tests state (the demo sets them: warmLr, warmEmaHorizon, translatedTwins, twinsSide, rqaContinues). */
const { warmLr: _demoWarmLr, warmEmaHorizon: _demoWarmEma, translatedTwins: _demoTwins, twinsSide: _demoTwinsSide, rqaContinues: _demoRqa, ...demoSft } = demo.sft as Record<string, unknown>;

/** A config file: the demo's, its sft section (less the knobs above) patched. */
function withSft(patch: Record<string, unknown>): string {
  const f = join(mkdtempSync(join(tmpdir(), 'csrm-config-')), 'c.json');
  writeFileSync(f, JSON.stringify({ ...demo, sft: { ...demoSft, ...patch } }));
  return f;
}

describe('loadConfig', () => {
  it('loads every shipped preset', () => {
    for (const p of ['demo', 'tiny', 'gpu']) expect(loadConfig(p).name).toBe(p);
  });

  it.each([
    [{ adapter: 'qlora' }, /sft.adapter "qlora"/],
    [{ warmSteps: 0 }, /sft.warmSteps 0 must be a positive integer/],
    [{ targetShare: 1 }, /sft.targetShare 1 outside/],
    [{ groupBatches: 0 }, /sft.groupBatches 0 must be a positive integer/],
    [{ groupBatches: 2.5 }, /sft.groupBatches 2.5/],
    [{ mtRatio: 1 }, /sft.mtRatio 1 outside/],
    [{ lr: 0 }, /sft.lr 0 must be a number > 0/],
    [{ weightDecay: -1 }, /sft.weightDecay -1 must be a number ≥ 0/],
    [{ warmupShare: 2 }, /sft.warmupShare 2 outside \[0, 1\]/],
    [{ loraR: 0 }, /sft.loraR 0 must be a positive integer/],
    [{ steps: undefined }, /missing "sft.steps"/],
    [{ learningRate: 0.1 }, /sft.learningRate is not a knob/],
    [{ precision: 'f16' }, /sft.precision "f16" is not one of "f32", "mixed-f16"/],
  ])('refuses %j', (patch, why) => {
    const f = withSft(patch);
    expect(() => loadConfig(f)).toThrow(why);
    expect(() => loadConfig(f)).toThrow(f);
  });

  it('fills every knob: defaults where the file is silent, warmSteps = steps when absent', () => {
    const tiny = loadConfig('tiny');
    expect(Object.keys(tiny.sft).sort()).toEqual(Object.keys(SFT_KNOBS).sort());
    expect(tiny.sft).toMatchObject({ warmSteps: tiny.sft.steps, groupBatches: 8, weightDecay: 0.01, clip: 1, lmWeight: 0.1, warmupMax: 50, warmupShare: 0.1, adapter: 'lora', loraR: null, targetShare: null });
    const d = loadConfig(withSft({ groupBatches: 3, lmWeight: 0.2, loraR: 4 }));
    expect(d.sft).toMatchObject({ groupBatches: 3, lmWeight: 0.2, loraR: 4, warmSteps: demo.sft.warmSteps });
  });

  it('sft.precision: "f32" by default and then absent from what runs record; "mixed-f16" reaches the loop and its record', () => {
    const f32 = loadConfig(withSft({})).sft;
    expect(f32.precision).toBe('f32');
    const { precision: _, warmLr: _w, emaHorizon: _e, warmEmaHorizon: _we, labelSmoothing: _ls, warmLabelSmoothing: _wls, dropout: _dr, warmDropout: _wdr, beta2: _b2, decayOn: _d, codeSwitch: _c, translatedTwins: _tt, twinsSide: _ts, twinsWithTranslation: _twt, freezeEmbeddings: _fe, rqaContinues: _rc, ...before } = f32; // labelHead stays: the demo sets it, so it is recorded // the settings as recorded before the knob existed
    expect(recordedSft(f32)).toEqual(before);
    const loop = sftLoopConfig(f32, { init: false, mt: false, alpha: 1 });
    expect('precision' in loop).toBe(false);
    const mixed = loadConfig(withSft({ precision: 'mixed-f16' })).sft;
    expect(recordedSft(mixed).precision).toBe('mixed-f16');
    const mloop = sftLoopConfig(mixed, { init: false, mt: false, alpha: 1 });
    expect(mloop.precision).toBe('mixed-f16');
    expect(trainRecord(undefined, mloop).hashes.settings).not.toBe(trainRecord(undefined, loop).hashes.settings);
  });

  it('sft.decayOn: "all" by default and then absent from what runs record and from the loop; "matrices" reaches both; anything else is refused', () => {
    const all = loadConfig(withSft({ decayOn: 'all' })).sft;
    expect('decayOn' in recordedSft(all)).toBe(false);
    const loop = sftLoopConfig(all, { init: false, mt: false, alpha: 1 });
    expect('decayOn' in loop).toBe(false);
    const mat = loadConfig(withSft({ decayOn: 'matrices' })).sft;
    expect(recordedSft(mat).decayOn).toBe('matrices');
    const mloop = sftLoopConfig(mat, { init: true, mt: true, alpha: 1 });
    expect(mloop.decayOn).toBe('matrices');
    expect(trainRecord(undefined, sftLoopConfig(mat, { init: false, mt: false, alpha: 1 })).hashes.settings).not.toBe(trainRecord(undefined, loop).hashes.settings);
    expect(() => loadConfig(withSft({ decayOn: 'embeddings' }))).toThrow(/decayOn/);
  });

  it('sft.labelHead: false by default and then absent from what runs record; true recorded; refused with LoRA adapters', () => {
    const off = loadConfig(withSft({ labelHead: false, adapter: 'full' })).sft;
    expect('labelHead' in recordedSft(off)).toBe(false);
    expect(recordedSft(loadConfig(withSft({ labelHead: true, adapter: 'full' })).sft).labelHead).toBe(true);
    expect(() => loadConfig(withSft({ labelHead: true, adapter: 'lora' }))).toThrow(/labelHead.*lora/);
    expect(() => loadConfig(withSft({ labelHead: 'yes', adapter: 'full' }))).toThrow(/labelHead/);
  });

  it('sft.lrHold: 0 by default and then absent from what runs record and from the loop; a hold reaches both', () => {
    const none = loadConfig(withSft({ lrHold: 0 })).sft;
    expect(none.lrHold).toBe(0);
    expect('lrHold' in recordedSft(none)).toBe(false);
    const loop = sftLoopConfig(none, { init: false, mt: false, alpha: 1 });
    expect('lrHold' in loop).toBe(false);
    const held = loadConfig(withSft({ lrHold: 0.5 })).sft;
    expect(recordedSft(held).lrHold).toBe(0.5);
    const hloop = sftLoopConfig(held, { init: false, mt: false, alpha: 1 });
    expect(hloop.lrHold).toBe(0.5);
    expect(trainRecord(undefined, hloop).hashes.settings).not.toBe(trainRecord(undefined, loop).hashes.settings);
    expect(() => loadConfig(withSft({ lrHold: 1 }))).toThrow(/lrHold/);
  });

  it('sft.warmLr: null by default (continuing stages at lr) and then absent from records; a value reaches continuing stages only', () => {
    const none = loadConfig(withSft({})).sft;
    expect(none.warmLr).toBeNull();
    expect('warmLr' in recordedSft(none)).toBe(false);
    expect(sftLoopConfig(none, { init: true, mt: false, alpha: 1 }).lr).toBe(none.lr);
    const set = loadConfig(withSft({ warmLr: 3e-4 })).sft;
    expect(recordedSft(set).warmLr).toBe(3e-4);
    expect(sftLoopConfig(set, { init: true, mt: true, alpha: 1 }).lr).toBe(3e-4);
    expect(sftLoopConfig(set, { init: false, mt: true, alpha: 1 }).lr).toBe(set.lr);
    expect(() => loadConfig(withSft({ warmLr: 0 }))).toThrow(/warmLr/);
  });

  it('sft.emaHorizon: null by default (no weight average, absent from records and loop); a share h gives each stage the decay 1 − 1/(h·its steps)', () => {
    const none = loadConfig(withSft({})).sft;
    expect(none.emaHorizon).toBeNull();
    expect('emaHorizon' in recordedSft(none)).toBe(false);
    expect('ema' in sftLoopConfig(none, { init: false, mt: false, alpha: 1 })).toBe(false);
    const set = loadConfig(withSft({ emaHorizon: 0.2, steps: 5000, warmSteps: 400, mtRatio: 0.25 })).sft;
    expect(recordedSft(set).emaHorizon).toBe(0.2);
    expect(sftLoopConfig(set, { init: false, mt: false, alpha: 1 }).ema).toBeCloseTo(1 - 1 / 1000, 12);
    expect(sftLoopConfig(set, { init: true, mt: true, alpha: 1 }).ema).toBeCloseTo(1 - 1 / (0.2 * 533), 12); // 400 / 0.75 steps
    expect(() => loadConfig(withSft({ emaHorizon: 0 }))).toThrow(/emaHorizon/);
    expect(() => loadConfig(withSft({ emaHorizon: 1.5 }))).toThrow(/emaHorizon/);
  });

  it('sft.warmEmaHorizon: null by default (continuing stages take emaHorizon) and then absent from records; a value reaches continuing stages only', () => {
    const none = loadConfig(withSft({})).sft;
    expect(none.warmEmaHorizon).toBeNull();
    expect('warmEmaHorizon' in recordedSft(none)).toBe(false);
    expect('ema' in sftLoopConfig(none, { init: true, mt: true, alpha: 1 })).toBe(false);
    const set = loadConfig(withSft({ warmEmaHorizon: 0.3, steps: 5000, warmSteps: 800, mtRatio: 0.25 })).sft;
    expect(recordedSft(set).warmEmaHorizon).toBe(0.3);
    expect('ema' in sftLoopConfig(set, { init: false, mt: true, alpha: 1 })).toBe(false); // Stage 1 averages nothing
    expect(sftLoopConfig(set, { init: true, mt: true, alpha: 1 }).ema).toBeCloseTo(1 - 1 / (0.3 * 1067), 12); // 800 / 0.75 steps
    expect(sftLoopConfig(set, { init: true, mt: false, alpha: 1 }).ema).toBeCloseTo(1 - 1 / (0.3 * 800), 12);
    const both = loadConfig(withSft({ emaHorizon: 0.2, warmEmaHorizon: 0.5, steps: 5000, warmSteps: 400, mtRatio: 0.25 })).sft;
    expect(sftLoopConfig(both, { init: false, mt: false, alpha: 1 }).ema).toBeCloseTo(1 - 1 / 1000, 12);
    expect(sftLoopConfig(both, { init: true, mt: false, alpha: 1 }).ema).toBeCloseTo(1 - 1 / 200, 12);
    const inherit = loadConfig(withSft({ emaHorizon: 0.2, steps: 5000, warmSteps: 400 })).sft;
    expect(sftLoopConfig(inherit, { init: true, mt: false, alpha: 1 }).ema).toBeCloseTo(1 - 1 / 80, 12);
    expect(() => loadConfig(withSft({ warmEmaHorizon: 0 }))).toThrow(/warmEmaHorizon/);
    expect(() => loadConfig(withSft({ warmEmaHorizon: 2 }))).toThrow(/warmEmaHorizon/);
  });

  // a knob for every stage and its override for the stages that continue an earlier one (Stage 2, SD rounds)
  for (const [k, wk] of [['labelSmoothing', 'warmLabelSmoothing'], ['dropout', 'warmDropout']] as const) {
    it(`sft.${k} and sft.${wk}: 0 / null by default and then absent from records and loop; a value reaches the stages it names`, () => {
      const none = loadConfig(withSft({})).sft;
      expect([none[k], none[wk]]).toEqual([0, null]);
      expect(k in recordedSft(none) || wk in recordedSft(none)).toBe(false);
      for (const init of [false, true]) expect(k in sftLoopConfig(none, { init, mt: true, alpha: 1 })).toBe(false);
      const all = loadConfig(withSft({ [k]: 0.1 })).sft;
      expect(recordedSft(all)[k]).toBe(0.1);
      for (const init of [false, true]) expect(sftLoopConfig(all, { init, mt: true, alpha: 1 })[k]).toBe(0.1);
      const warm = loadConfig(withSft({ [wk]: 0.2 })).sft;
      expect(recordedSft(warm)[wk]).toBe(0.2);
      expect(k in sftLoopConfig(warm, { init: false, mt: true, alpha: 1 })).toBe(false); // Stage 1 without it
      expect(sftLoopConfig(warm, { init: true, mt: true, alpha: 1 })[k]).toBe(0.2);
      const off = loadConfig(withSft({ [k]: 0.1, [wk]: 0 })).sft;
      expect(k in sftLoopConfig(off, { init: true, mt: false, alpha: 1 })).toBe(false);
      expect(trainRecord(undefined, sftLoopConfig(all, { init: false, mt: false, alpha: 1 })).hashes.settings).not.toBe(trainRecord(undefined, sftLoopConfig(none, { init: false, mt: false, alpha: 1 })).hashes.settings);
      expect(() => loadConfig(withSft({ [k]: 1 }))).toThrow(new RegExp(`sft.${k}`));
      expect(() => loadConfig(withSft({ [wk]: -0.1 }))).toThrow(new RegExp(`sft.${wk}`));
    });
  }

  it('sft.beta2: 0.999 (AdamW\'s default) unless set, and then absent from records and loop; a value reaches every stage and the settings hash; outside (0, 1) refused', () => {
    const none = loadConfig(withSft({})).sft;
    expect(none.beta2).toBe(0.999);
    expect('beta2' in recordedSft(none)).toBe(false);
    for (const init of [false, true]) expect('beta2' in sftLoopConfig(none, { init, mt: true, alpha: 1 })).toBe(false);
    const set = loadConfig(withSft({ beta2: 0.95 })).sft;
    expect(recordedSft(set).beta2).toBe(0.95);
    for (const init of [false, true]) expect(sftLoopConfig(set, { init, mt: true, alpha: 1 }).beta2).toBe(0.95);
    expect(trainRecord(undefined, sftLoopConfig(set, { init: false, mt: false, alpha: 1 })).hashes.settings).not.toBe(trainRecord(undefined, sftLoopConfig(none, { init: false, mt: false, alpha: 1 })).hashes.settings);
    expect(() => loadConfig(withSft({ beta2: 1 }))).toThrow(/sft.beta2/);
    expect(() => loadConfig(withSft({ beta2: 0 }))).toThrow(/sft.beta2/);
  });

  it('sft.codeSwitch: 0 by default and then absent from records; a share is recorded; outside [0, 1] refused', () => {
    const none = loadConfig(withSft({})).sft;
    expect(none.codeSwitch).toBe(0);
    expect('codeSwitch' in recordedSft(none)).toBe(false);
    const set = loadConfig(withSft({ codeSwitch: 0.5 })).sft;
    expect(recordedSft(set).codeSwitch).toBe(0.5);
    expect(() => loadConfig(withSft({ codeSwitch: -0.1 }))).toThrow(/sft.codeSwitch -0.1 outside/);
    expect(() => loadConfig(withSft({ codeSwitch: 1.5 }))).toThrow(/sft.codeSwitch 1.5 outside/);
  });

  it('sft.freezeEmbeddings freezes the token table only in a full fine-tuning run from the base', () => {
    const on = loadConfig(withSft({ freezeEmbeddings: true, adapter: 'full' })).sft;
    expect([freezesEmbeddings(on, false), freezesEmbeddings(on, true)]).toEqual([true, false]);
    expect(freezesEmbeddings({ ...on, adapter: 'lora' }, false)).toBe(false);
    expect(freezesEmbeddings({ ...on, freezeEmbeddings: false }, false)).toBe(false);
  });

  it('sft.twinsSide: "source" by default and then absent from records; "target" is recorded; anything else is refused', () => {
    const none = loadConfig(withSft({ translatedTwins: true })).sft;
    expect(none.twinsSide).toBe('source');
    expect('twinsSide' in recordedSft(none)).toBe(false);
    expect(recordedSft(loadConfig(withSft({ translatedTwins: true, twinsSide: 'target' })).sft).twinsSide).toBe('target');
    expect(() => loadConfig(withSft({ twinsSide: 'both' }))).toThrow(/sft.twinsSide/);
  });

  // the switches that are off unless a config turns them on
  for (const k of ['translatedTwins', 'twinsWithTranslation', 'freezeEmbeddings', 'rqaContinues'] as const) {
    it(`sft.${k}: false by default and then absent from records; true is recorded; not a boolean refused`, () => {
      const none = loadConfig(withSft({})).sft;
      expect(none[k]).toBe(false);
      expect(k in recordedSft(none)).toBe(false);
      expect(recordedSft(loadConfig(withSft({ [k]: true })).sft)[k]).toBe(true);
      expect(() => loadConfig(withSft({ [k]: 'yes' }))).toThrow(new RegExp(`sft.${k}`));
      expect(() => loadConfig(withSft({ [k]: 1 }))).toThrow(new RegExp(`sft.${k}`));
    });
  }

  it("takes the market's dev and test sizes from the file, else from the generator's preset", () => {
    expect(loadConfig('demo').market).toEqual({ preset: 'demo', seed: 1, dev: 600, test: 2000, lexicon: null });
    expect(loadConfig('gpu').market).toMatchObject({ dev: PRESET_SIZES[loadConfig('gpu').market.preset].dev });
    const write = (market: unknown) => {
      const f = join(mkdtempSync(join(tmpdir(), 'csrm-config-')), 'c.json');
      writeFileSync(f, JSON.stringify({ ...demo, market }));
      return f;
    };
    expect(loadConfig(write({ preset: 'tiny', seed: 3, test: 500 })).market).toEqual({ preset: 'tiny', seed: 3, dev: PRESET_SIZES.tiny.dev, test: 500, lexicon: null });
    expect(() => loadConfig(write({ preset: 'demo', seed: 1, test: 0 }))).toThrow(/market.test 0 must be a positive integer/);
    expect(() => loadConfig(write({ preset: 'demo', seed: 1, dev: 2.5 }))).toThrow(/market.dev 2.5 must be a positive integer/);
    expect(() => loadConfig(write({ preset: 'huge', seed: 1 }))).toThrow(/market.preset "huge" is not one of "tiny", "demo", "paper"/);
  });

  it('names a file that is not JSON', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'csrm-config-')), 'bad.json');
    writeFileSync(f, '{ nope');
    expect(() => loadConfig(f)).toThrow(new RegExp(`config ${f}:`));
  });
});
