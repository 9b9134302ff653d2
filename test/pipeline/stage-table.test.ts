// The method's stage table is consistent: each stage continues and learns from stages that run
// before it, names are unique, Stage 1 starts from the base model on source labels, and the
// CLI's options for a named stage are the ones `csrm demo` uses.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../pipeline/stages/config.ts';
import { findStage, methodStages, stageRunOpts, teacherCandidates, TRANSFER_GAP_STAGES } from '../../pipeline/stages/stage-table.ts';

describe('methodStages', () => {
  // the demo's stages with one Figure-3 share (the demo itself leaves the shares to csrm study)
  const c = { ...loadConfig('demo'), figure3: { fractions: [0.5] } };
  const stages = methodStages(c);

  it('names each stage once and runs what a stage needs before it', () => {
    const names = stages.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    stages.forEach((s, i) => {
      for (const dep of [s.startsFrom, s.softLabelsFrom, s.verdict?.against]) if (dep) expect(names.indexOf(dep), `${s.name} needs ${dep}`).toBeGreaterThanOrEqual(0);
      for (const dep of [s.startsFrom, s.softLabelsFrom]) if (dep) expect(names.indexOf(dep), `${s.name} after ${dep}`).toBeLessThan(i);
    });
  });

  it('Stage 1 learns all source labels from the base model (RQA continues SFT+MT with sft.rqaContinues); self-distillation continues the model it learns from', () => {
    for (const rqaContinues of [false, true]) {
      const one = methodStages({ ...c, sft: { ...c.sft, rqaContinues } }).filter((x) => x.stage === 1);
      expect(one.map((s) => [s.name, s.startsFrom, s.targetFraction, s.softLabelsFrom])).toEqual([
        ['stage1-sft', null, 1, null], ['stage1-sft-mt', null, 1, null], ['stage1-sft-mt-rqa', rqaContinues ? 'stage1-sft-mt' : null, 1, null]]);
      // the RQA verdict says when its difference includes the continued steps
      expect(/includes its steps/.test(one[2]!.verdict!.what)).toBe(rqaContinues);
    }
    for (const s of stages.filter((x) => x.softLabelsFrom)) expect(s.startsFrom).toBe(s.softLabelsFrom);
  });

  it('has one self-distillation round per sd.rounds and two Figure 3 stages per fraction', () => {
    expect(stages.filter((s) => /^sd-\d+$/.test(s.name))).toHaveLength(c.sd.rounds);
    expect(stages.filter((s) => !s.table2)).toHaveLength(2 * c.figure3.fractions.length);
    expect(methodStages({ sd: { rounds: 0, alpha: 0.5 }, figure3: { fractions: [] } }).map((s) => s.name)).toEqual(['stage1-sft', 'stage1-sft-mt', 'stage1-sft-mt-rqa', 'stage2', 'stage2-rqa-star']);
  });

  it('names the transfer-gap pair (without, with MT) and the teacher candidates from the table', () => {
    expect(TRANSFER_GAP_STAGES.map((n) => findStage(stages, n).mt)).toEqual([false, true]);
    expect(teacherCandidates(stages)).toEqual(['stage2', ...Array.from({ length: c.sd.rounds }, (_, i) => `sd-${i + 1}`)]);
    expect(() => findStage(stages, 'stage3')).toThrow(/no stage "stage3"/);
  });

  it('gives runSftStage the folders of the run: RQA, soft labels, α', () => {
    const run = { runDir: '/r', data: '/r/data', base: '/r/base.ckpt' };
    expect(stageRunOpts(findStage(stages, 'stage2-rqa-star'), c, run)).toMatchObject({ rqa: '/r/rqa-star', init: 'stage1-sft-mt-rqa', stage: 2, mt: true, softLabels: null, alpha: 1 });
    expect(stageRunOpts(findStage(stages, 'sd-1-50'), c, run)).toMatchObject({ softLabels: '/r/sd-1-50/soft-labels.jsonl', alpha: c.sd.alpha, targetFraction: 0.5, init: 'stage2-50', train: c.sft });
  });
});
