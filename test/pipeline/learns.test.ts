// The method's premise in one CI-sized check: the tiny decoder, fine-tuned from the committed base
// model on the demo market exactly as the demo's stages are, learns relevance. Stage 1 (source labels
// only) ends far above the majority-class rate on the source test set and, zero-shot, above it on the
// target test set (the cross-lingual transfer of the bilingual base); Stage 2, continuing it with the
// sparse target labels, ends far above it on the target test set — the number the method is about.
// Both predict all three classes. The same holds, by smaller margins, on the home-hobby lexicon's
// market, which the recipe was not tuned on. Deterministic: the same seeds give the same F1 on every
// run here.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { generateMarket } from '../../pipeline/data/market/generate.ts';
import { writeMarket } from '../../pipeline/data/market/write.ts';
import type { Evaluation } from '../../pipeline/eval/metrics.ts';
import { loadConfig, type MethodConfig } from '../../pipeline/stages/config.ts';
import { committedBase } from '../../pipeline/stages/method.ts';
import { runSftStage, type SftStageResult } from '../../pipeline/stages/sft-stage.ts';

/**
 * Margins over the majority-class rate (0.4185 on both test sets); one binomial sd of micro-F1 at
 * n = 2,000 is ≈ 0.011. Measured here 2026-12-02 (demo config: base pretrained 6,000 steps on
 * listings-behaviour-v1, 5,000 Stage-1 steps at lr 1.2e-3 with the peak held for 60% of them, 800
 * Stage-2 relevance steps at lr 5e-4 with a weight average over 30% of them (sft.warmLr,
 * sft.warmEmaHorizon), the answer's own label head, sft.labelHead, and Stage 2 with the source
 * samples' translated twins, sft.translatedTwins, counted with the target labels in the upsampling,
 * sft.twinsSide "target" (2026-12-03)): Stage 1 source 0.8580, Stage 1 target (zero-shot)
 * 0.6475, Stage 2 target 0.7920 (twins on the source side: 0.7725; without the twins: 0.7365; earlier that day, Stage 2 at lr 1.2e-3
 * without the average: 0.7165; 2026-12-01, tied head: 0.8025 / 0.5585 / 0.6715; 2026-11-30, 2,400
 * Stage-1 steps: 0.7920 / 0.5760 / 0.6825). Margins sit ≈ 3 sd under the measured value and only
 * move up.
 */
const SOURCE_MARGIN = 0.40; // measured +0.4395
const ZERO_SHOT_MARGIN = 0.19; // measured +0.2290
const TARGET_MARGIN = 0.34; // measured +0.3735 (2026-12-03; +0.3540 with the twins on the source side, margin 0.32 then)

/**
 * The same recipe on the home-hobby lexicon's market (issue 21: a market the recipe was not tuned
 * on), from its committed tokenizer and base (pipeline/tokenizer/home-hobby-kr-tw/,
 * pipeline/base/demo-tiny-home-hobby-kr-tw.ckpt). Majority-class rate 0.3760 on both test sets.
 * Measured here 2026-12-02 (the config above): Stage 1 source 0.7895, target (zero-shot) 0.5335, Stage 2
 * target 0.6510, and 0.6840 on 2026-12-03 with the twins on the target side (without the translated twins: 0.6385; earlier that day, Stage 2 at lr 1.2e-3
 * without the average: 0.6575; 2026-12-01, tied head: 0.7675 / 0.5510 / 0.6315; 2026-11-30: 0.6510 /
 * 0.4470 / 0.5275). The label head lowered this zero-shot test figure (+0.1750 → +0.1575 over the
 * majority rate; on dev it moved 0.565 → 0.522 with seed 11 and 0.492 → 0.555 with seed 12) and the
 * Stage-2 recipe chosen on the demo market's dev lowered this Stage-2 figure (+0.2815 → +0.2625; the
 * twins then raised it to +0.2750), so those margins stay where they were, 1.6 and 3 sd under the
 * measured values.
 */
const HOME_HOBBY = fileURLToPath(new URL('../../pipeline/data/lexicon/home-hobby-kr-tw.json', import.meta.url));
const HH_SOURCE_MARGIN = 0.38; // measured +0.4135
const HH_ZERO_SHOT_MARGIN = 0.14; // measured +0.1575
const HH_TARGET_MARGIN = 0.27; // measured +0.3080 (2026-12-03, twins on the target side; +0.2750 before, margin 0.24 then)

/**
 * Each market's Stage 1 + Stage 2 takes ≈ 4.5 min alone on a quiet 2-core machine; on a slow hour
 * (2026-12-02: the FMA ceiling at 46 instead of 55–90 GFLOP/s) and beside another test file it took
 * over 20 min, so the limit guards against a hang, not against a slow machine.
 */
const TIMEOUT_MS = 45 * 60_000;

function predictsEveryClass(r: Evaluation, what: string): void {
  for (let k = 0; k < 3; k++) expect(r.confusion.reduce((n, row) => n + row[k]!, 0), `${what}: class ${k} predicted`).toBeGreaterThan(0);
}

/** Stage 1 and Stage 2 of the config's market from its committed base, as the demo runs them. */
async function stages12(c: MethodConfig): Promise<{ s1: SftStageResult; s2: SftStageResult }> {
  const dir = mkdtempSync(join(tmpdir(), 'csrm-learns-'));
  try {
    const data = join(dir, 'data');
    writeMarket(generateMarket({ preset: c.market.preset, seed: c.market.seed, size: { dev: c.market.dev, test: c.market.test }, lexicon: c.market.lexicon ?? undefined }), data);
    const base = join(dir, 'base.ckpt');
    copyFileSync(committedBase(c), base);
    const common = { runDir: dir, data, base, rqa: null, softLabels: null, alpha: 1, targetFraction: 1, quiet: true };
    const s1 = await runSftStage({ ...common, name: 'stage1', stage: 1, mt: false, train: c.sft });
    const s2 = await runSftStage({ ...common, name: 'stage2', stage: 2, mt: true, init: 'stage1', train: c.sft });
    const f = (r: Evaluation) => `${r.microF1.toFixed(4)} (majority ${r.majorityRate.toFixed(4)})`;
    console.log(`learns (${c.market.lexicon ? basename(c.market.lexicon) : 'default lexicon'}): Stage 1 source ${f(s1.eval.source)}, target ${f(s1.eval.target)}; Stage 2 target ${f(s2.eval.target)} (${(s1.seconds + s2.seconds).toFixed(0)} s)`);
    return { s1, s2 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Stage 1 above the majority rate on the source test set by `source` and, zero-shot, on the target one by `zeroShot`; Stage 2 on the target one by `target`; all three classes predicted. */
function expectLearns({ s1, s2 }: { s1: SftStageResult; s2: SftStageResult }, m: { source: number; zeroShot: number; target: number }): void {
  expect(s1.eval.source.microF1).toBeGreaterThan(s1.eval.source.majorityRate + m.source);
  predictsEveryClass(s1.eval.source, 'Stage 1 on the source test set');
  expect(s1.eval.target.microF1).toBeGreaterThan(s1.eval.target.majorityRate + m.zeroShot);
  expect(s2.eval.target.microF1).toBeGreaterThan(s2.eval.target.majorityRate + m.target);
  predictsEveryClass(s2.eval.target, 'Stage 2 on the target test set');
}

it('learns the task: Stage 1 far above the majority rate on the source market and above it zero-shot on the target market, Stage 2 far above it on the target market', async () => {
  expectLearns(await stages12(loadConfig('demo')), { source: SOURCE_MARGIN, zeroShot: ZERO_SHOT_MARGIN, target: TARGET_MARGIN });
}, TIMEOUT_MS);

it('learns on a market it was not tuned on: the home-hobby lexicon, with its own committed tokenizer and base, the same recipe', async () => {
  expectLearns(await stages12(loadConfig('demo', { lexicon: HOME_HOBBY })), { source: HH_SOURCE_MARGIN, zeroShot: HH_ZERO_SHOT_MARGIN, target: HH_TARGET_MARGIN });
}, TIMEOUT_MS);
