// The method's fine-tuning stages in one table: the run folder each writes, the paper's stage and
// Table 2 setting, the model it starts from, its data, what it trains, and where the report shows
// it. `csrm demo` (method.ts) runs the table in order, the report (report.ts) reads its rows and
// Figure 3 from it, and `csrm sft --name` / `csrm stages` (cli/csrm.ts) take a stage from it.
import { join } from 'node:path';
import type { MethodConfig, SftSettings } from './config.ts';
import { stageSteps, type SftStageOpts } from './sft-stage.ts';

/** The run folders of retrieval-based query augmentation (section 3.3): EBR on source behaviour, and EBR* retrained with the target's sparse behaviour. */
export type RqaKind = 'rqa' | 'rqa-star';

export interface StageSpec {
  /** Run folder: stage1-sft, stage2, sd-2, stage2-50 … */
  name: string;
  /** The paper's stage: 1 = cold start, source labels only; 2 = source + sparse target labels. */
  stage: 1 | 2;
  /** Table 2's setting: SFT, SFT+MT, SFT+MT+RQA, SFT+MT+RQA*, SFT+MT+SD-k. */
  setting: string;
  /** The stage of this run whose best checkpoint it continues; null = fresh adapters on the base model. */
  startsFrom: string | null;
  /** Share of the target market's training labels (Stage 2; Figure 3 sweeps it). */
  targetFraction: number;
  /** With the auxiliary translation task (section 3.2). */
  mt: boolean;
  /** The prompts carry retrieved titles from this RQA run (section 3.3). */
  rqa: RqaKind | null;
  /** Self-distillation (section 3.4): this stage's predictions on the training records are the soft labels (eq. 2, α = sd.alpha). */
  softLabelsFrom: string | null;
  /** In Table 2 of the report. */
  table2: boolean;
  /** A point of Figure 3: at this share of target labels, with or without self-distillation. */
  figure3: { fraction: number; sd: boolean } | null;
  /**
   * A comparison the report states: this stage (B) against that one (A) on the same test samples,
   * with its paired interval, p-value and verdict (eval/paired-comparison.ts); `what` is the technique.
   */
  verdict: { against: string; what: string } | null;
}

/** The Stage-1 pair whose cross-lingual transfer gap (eq. 6) the report compares: without and with MT. */
export const TRANSFER_GAP_STAGES = ['stage1-sft', 'stage1-sft-mt'] as const;

const pct = (f: number) => Math.round(f * 100);

/**
 * Every fine-tuning stage of the method under config `c`, in the order `csrm demo` runs them. With
 * `sft.rqaContinues` Stage 1's RQA run continues the SFT+MT model (warmSteps with retrieved titles)
 * instead of training from the base model: the demo's budget affords two Stage-1 runs from the base,
 * not three, and its RQA verdict then says that the difference includes those steps.
 */
export function methodStages(c: Pick<MethodConfig, 'sd' | 'figure3'> & { sft?: Pick<SftSettings, 'rqaContinues'> }): StageSpec[] {
  const rqaFrom = c.sft?.rqaContinues ? 'stage1-sft-mt' : null;
  const none = { startsFrom: null, targetFraction: 1, rqa: null, softLabelsFrom: null, table2: true, figure3: null, verdict: null };
  const s: StageSpec[] = [
    { ...none, name: 'stage1-sft', stage: 1, setting: 'SFT', mt: false },
    { ...none, name: 'stage1-sft-mt', stage: 1, setting: 'SFT+MT', mt: true, figure3: { fraction: 0, sd: false }, verdict: { against: 'stage1-sft', what: 'The auxiliary translation task (Stage 1)' } },
    { ...none, name: 'stage1-sft-mt-rqa', stage: 1, setting: 'SFT+MT+RQA', mt: true, rqa: 'rqa', startsFrom: rqaFrom, verdict: { against: 'stage1-sft-mt', what: `Retrieval-based query augmentation, RQA (Stage 1${rqaFrom ? '; continues SFT+MT, so the difference includes its steps' : ''})` } },
    { ...none, name: 'stage2', stage: 2, setting: 'SFT+MT', mt: true, startsFrom: 'stage1-sft-mt', figure3: { fraction: 1, sd: false }, verdict: { against: 'stage1-sft-mt', what: 'Sparse target labels (Stage 2)' } },
    { ...none, name: 'stage2-rqa-star', stage: 2, setting: 'SFT+MT+RQA*', mt: true, rqa: 'rqa-star', startsFrom: 'stage1-sft-mt-rqa', verdict: { against: 'stage2', what: 'RQA* with the target\'s sparse behaviour (Stage 2)' } },
  ];
  // multi-round self-distillation: round k learns from round k−1's soft labels and continues its model
  for (let k = 1, prev = 'stage2'; k <= c.sd.rounds; prev = `sd-${k}`, k++) {
    s.push({ ...none, name: `sd-${k}`, stage: 2, setting: `SFT+MT+SD-${k}`, mt: true, startsFrom: prev, softLabelsFrom: prev, figure3: k === 1 ? { fraction: 1, sd: true } : null, verdict: { against: prev, what: `Self-distillation round ${k}` } });
  }
  // Figure 3: fewer target labels, without and with one self-distillation round
  for (const f of c.figure3.fractions) {
    const plain = `stage2-${pct(f)}`;
    s.push({ ...none, name: plain, stage: 2, setting: 'SFT+MT', mt: true, targetFraction: f, startsFrom: 'stage1-sft-mt', table2: false, figure3: { fraction: f, sd: false } });
    s.push({ ...none, name: `sd-1-${pct(f)}`, stage: 2, setting: 'SFT+MT+SD-1', mt: true, targetFraction: f, startsFrom: plain, softLabelsFrom: plain, table2: false, figure3: { fraction: f, sd: true }, verdict: { against: plain, what: `One self-distillation round at ${pct(f)}% of the target labels (Figure 3)` } });
  }
  return s;
}

/** What a stage trains, in words (its data, what it starts from, its step budget). */
export function stageTrains(s: StageSpec, sft: SftSettings): string {
  const data = s.stage === 1 ? 'source labels' : s.targetFraction < 1 ? `source + ${pct(s.targetFraction)}% of target labels` : 'source + target labels';
  const from = s.startsFrom ? `continues ${s.startsFrom}` : sft.adapter === 'lora' ? 'fresh LoRA adapters on the base model' : 'every weight of the base model';
  const extras = [s.mt ? 'translation task' : '', s.rqa ? `${s.rqa === 'rqa' ? 'RQA' : 'RQA*'} titles` : '', s.softLabelsFrom ? `soft labels of ${s.softLabelsFrom}` : ''].filter(Boolean);
  const steps = stageSteps(s.startsFrom ? sft.warmSteps : sft.steps, s.mt, sft.mtRatio);
  return `${data}${extras.length ? ` with ${extras.join(', ')}` : ''}; ${from}, ${steps} steps of batch ${sft.batchSize}`;
}

/** The stage a knowledge-distillation teacher is picked from: Stage 2 and its self-distillation rounds on plain prompts (the online stage labels without RQA). */
export function teacherCandidates(stages: readonly StageSpec[]): string[] {
  return stages.filter((s) => s.table2 && s.stage === 2 && s.rqa === null).map((s) => s.name);
}

export function findStage(stages: readonly StageSpec[], name: string): StageSpec {
  const s = stages.find((x) => x.name === name);
  if (!s) throw new Error(`no stage "${name}" in the method's table (${stages.map((x) => x.name).join(', ')})`);
  return s;
}

/** Where a self-distillation stage's soft labels are written (csrm label) and read. */
export const softLabelsPath = (runDir: string, s: StageSpec) => join(runDir, s.name, 'soft-labels.jsonl');

/** runSftStage's options for a stage of the table in a run folder. */
export function stageRunOpts(s: StageSpec, c: MethodConfig, run: { runDir: string; data: string; base: string; quiet?: boolean; rqaRoot?: string; tokenizer?: string | null }): SftStageOpts {
  return {
    runDir: run.runDir, data: run.data, base: run.base, quiet: run.quiet, tokenizer: run.tokenizer ?? null, name: s.name, stage: s.stage, mt: s.mt, init: s.startsFrom, targetFraction: s.targetFraction, train: c.sft,
    rqa: s.rqa ? join(run.rqaRoot ?? run.runDir, s.rqa) : null,
    softLabels: s.softLabelsFrom ? softLabelsPath(run.runDir, s) : null,
    softLabelsFrom: s.softLabelsFrom,
    alpha: s.softLabelsFrom ? c.sd.alpha : 1,
  };
}
