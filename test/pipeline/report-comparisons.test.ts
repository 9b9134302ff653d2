// The report's comparisons from result files: a stage table comparison pairs each seed's two stages
// on the same samples; a stage found in only some seed folders, or a result written before
// per-sample predictions were kept, is listed as not compared, with the reason.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { samplePredictions } from '../../pipeline/eval/sample-predictions.ts';
import { writeJson } from '../../pipeline/io/files.ts';
import { collectComparisons } from '../../pipeline/report/comparisons.ts';
import { methodStages } from '../../pipeline/stages/stage-table.ts';

const keys = Array.from({ length: 12 }, (_, i) => `TW:test:q${i >> 2}:p${i}`);
const truth = keys.map((_, i) => i % 3);
const queries = keys.map((_, i) => `q${i >> 2}`);

/** A stage result with just what the comparisons read. */
function writeStage(dir: string, name: string, pred: number[] | null): void {
  mkdirSync(join(dir, name), { recursive: true });
  writeJson(join(dir, name, 'result.json'), { name, eval: { target: {}, ...(pred ? { targetSamples: samplePredictions(keys, truth, pred, queries) } : {}) } });
}

describe('collectComparisons', () => {
  const stages = methodStages({ sd: { rounds: 0, alpha: 0.5 }, figure3: { fractions: [] } });

  it('pairs each seed\'s two stages and pools the seeds', () => {
    const root = mkdtempSync(join(tmpdir(), 'csrm-cmp-'));
    const seeds = [join(root, 'seed-1'), join(root, 'seed-2')];
    const wrong = truth.map((t) => (t + 1) % 3);
    // seed 1: SFT gets 0 of 12 right, SFT+MT 6; seed 2: SFT 6, SFT+MT 12
    writeStage(seeds[0]!, 'stage1-sft', wrong);
    writeStage(seeds[0]!, 'stage1-sft-mt', truth.map((t, i) => (i < 6 ? t : wrong[i]!)));
    writeStage(seeds[1]!, 'stage1-sft', truth.map((t, i) => (i < 6 ? t : wrong[i]!)));
    writeStage(seeds[1]!, 'stage1-sft-mt', truth);
    const cs = collectComparisons(stages, { seeds, shared: root }, { resamples: 500 });
    expect(cs.missing).toEqual([]);
    expect(cs.stated).toHaveLength(1);
    const c = cs.stated[0]!;
    expect(c).toMatchObject({ section: 'Table 2', from: 'stage1-sft', to: 'stage1-sft-mt', seeds: 2, clusters: 3, samples: 12, discordant: { aOnly: 0, bOnly: 12 } });
    expect([c.a, c.b, c.delta]).toEqual([0.25, 0.75, 0.5]);
  });

  it('lists what it cannot compare, with the reason', () => {
    const root = mkdtempSync(join(tmpdir(), 'csrm-cmp-'));
    const seeds = [join(root, 'seed-1'), join(root, 'seed-2')];
    writeStage(seeds[0]!, 'stage1-sft', truth);
    writeStage(seeds[0]!, 'stage1-sft-mt', truth);
    writeStage(seeds[1]!, 'stage1-sft', truth); // seed 2 has no stage1-sft-mt yet
    writeStage(seeds[0]!, 'stage2', null); // written before per-sample predictions were kept
    writeStage(seeds[1]!, 'stage2', truth);
    writeStage(seeds[1]!, 'stage1-sft-mt', truth);
    const partial = collectComparisons(stages, { seeds: [seeds[0]!, join(root, 'seed-3')], shared: root }, { resamples: 100 });
    expect(partial.missing).toContain('The auxiliary translation task (Stage 1): stage1-sft/result.json exists in 1 of 2 seed folders');
    const old = collectComparisons(stages, { seeds, shared: root }, { resamples: 100 });
    expect(old.missing).toEqual(['Sparse target labels (Stage 2): stage2/result.json has no per-sample predictions (written before they were kept; rerun the stage)']);
    expect(old.stated.map((c) => c.to)).toEqual(['stage1-sft-mt']);
  });
});
