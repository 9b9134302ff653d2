// The method config is validated on load: each bad field is an error naming the file and the field.
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configPath, loadConfig } from '../../pipeline/stages/config.ts';

const demo = JSON.parse(readFileSync(configPath('demo'), 'utf8'));

function withSft(patch: Record<string, unknown>): string {
  const f = join(mkdtempSync(join(tmpdir(), 'csrm-config-')), 'c.json');
  writeFileSync(f, JSON.stringify({ ...demo, sft: { ...demo.sft, ...patch } }));
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
    [{ groupBatches: 0 }, /sft.groupBatches 0 must be an integer ≥ 1/],
    [{ groupBatches: 2.5 }, /sft.groupBatches 2.5/],
    [{ mtRatio: 1 }, /sft.mtRatio 1 outside/],
  ])('refuses %j', (patch, why) => {
    const f = withSft(patch);
    expect(() => loadConfig(f)).toThrow(why);
    expect(() => loadConfig(f)).toThrow(f);
  });

  it('names a file that is not JSON', () => {
    const f = join(mkdtempSync(join(tmpdir(), 'csrm-config-')), 'bad.json');
    writeFileSync(f, '{ nope');
    expect(() => loadConfig(f)).toThrow(new RegExp(`config ${f}:`));
  });
});
