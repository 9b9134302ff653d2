// Fault injection, commands (issue 15, case 5 and the CLI's failure output): steps ≤ 0 train
// nothing and save nothing; a failing command prints one `error: …` line naming the cause, not
// sentencepiece's minified emscripten source.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateMarket } from '../../pipeline/data/market/generate.ts';
import { writeMarket } from '../../pipeline/data/market/write.ts';
import { runPretrain } from '../../pipeline/stages/pretrain.ts';

const dir = mkdtempSync(join(tmpdir(), 'csrm-cli-faults-'));
const repo = join(import.meta.dirname, '../..');
const data = join(dir, 'market');
writeMarket(generateMarket({ preset: 'tiny', seed: 4 }), data, 'parquet');

/** stderr without Dawn's start-up notices about limits, which every GPU command prints. */
const ownLines = (stderr: string) => stderr.split('\n').filter((l) => l !== '' && !l.startsWith('Warning: maxDynamic'));

describe('steps ≤ 0 are refused (case 5)', () => {
  for (const steps of [0, -5, 2.5]) {
    it(`pretrain --steps ${steps} writes no base model`, async () => {
      const out = join(dir, `base-${steps}.ckpt`);
      await expect(runPretrain({ data, out, preset: 'tiny', steps, batchSize: 4, seqLen: 32, lr: 1e-3, seed: 1, quiet: true }))
        .rejects.toThrow(`pretrain: steps must be a whole number ≥ 1, got ${steps}`);
      expect(existsSync(out)).toBe(false);
    });
  }
});

describe('a failing command says why in one line', () => {
  it('csrm eval on a market with a truncated Parquet file: `error: <file>: …`, exit 1', () => {
    const f = join(data, 'relevance', 'TW-test.parquet');
    const bytes = readFileSync(f);
    writeFileSync(f, bytes.subarray(0, bytes.byteLength >> 1));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'pipeline/cli/csrm.ts', 'eval', '--run', join(dir, 'run'), '--name', 'x', '--data', data, '--base', 'pipeline/base/demo-tiny.ckpt'],
      { cwd: repo, encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(1);
    const lines = ownLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^error: ${f}: `));
  });

  it('an error escaping after the tokenizer loaded is printed by Node as itself, not as emscripten source', () => {
    const script = join(dir, 'escape.mts');
    writeFileSync(script, [
      `import { loadTokenizer } from ${JSON.stringify(join(repo, 'pipeline/tokenizer/tokenizer.ts'))};`,
      'await loadTokenizer();',
      "setTimeout(() => { throw new Error('boom: the real cause'); });",
    ].join('\n'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: repo, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('boom: the real cause');
    expect(r.stderr.length).toBeLessThan(4000); // with emscripten's listeners: one 750 kB line of its source
    expect(r.stderr).not.toContain('sentencepiece-js');
  });
});
