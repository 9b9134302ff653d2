// The method's premise in one CI-sized check: the tiny decoder, fine-tuned from the committed base
// model on the demo market's source labels exactly as the demo's Stage 1, learns relevance — its
// micro-F1 (eq. 5) on the clean test set ends well above the majority-class rate (the trivial
// baseline), and it predicts all three classes. It checks the source market: that is what Stage 1
// learns at this size; how much of it transfers to the target market is what the demo's report
// measures (and, at this size, it is little). The wiring of every stage is method.test.ts's job.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { generateMarket } from '../../pipeline/data/market/generate.ts';
import { writeMarket } from '../../pipeline/data/market/write.ts';
import { loadConfig } from '../../pipeline/stages/config.ts';
import { committedBase } from '../../pipeline/stages/method.ts';
import { runSftStage } from '../../pipeline/stages/sft-stage.ts';

/** Margin over the majority-class rate that counts as "well above": ≈3 binomial sd at n = 400. */
const MARGIN = 0.1;

it('learns the task: Stage-1 test micro-F1 well above the majority-class rate', async () => {
  const c = loadConfig('demo');
  const dir = mkdtempSync(join(tmpdir(), 'csrm-learns-'));
  try {
    const data = join(dir, 'data');
    writeMarket(generateMarket({ preset: c.market.preset, seed: c.market.seed }), data);
    const base = join(dir, 'base.ckpt');
    copyFileSync(committedBase(c), base);
    const steps = c.sft.steps;
    const r = await runSftStage({
      runDir: dir, name: 'learns', data, base, stage: 1, mt: false, rqa: null, softLabels: null, alpha: 1, targetFraction: 1,
      train: c.sft, quiet: true,
    });
    const t = r.eval.source;
    console.log(`learns: source test micro-F1 ${t.microF1.toFixed(4)} vs majority ${t.majorityRate.toFixed(4)}; target ${r.eval.target.microF1.toFixed(4)} vs ${r.eval.target.majorityRate.toFixed(4)} (${steps} steps, ${r.train.seconds.toFixed(0)} s)`);
    expect(t.microF1).toBeGreaterThan(t.majorityRate + MARGIN);
    // not a one-class answer: every class is predicted for some test sample
    for (let k = 0; k < 3; k++) expect(t.confusion.reduce((n, row) => n + row[k]!, 0), `class ${k} predicted`).toBeGreaterThan(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 1_200_000);
