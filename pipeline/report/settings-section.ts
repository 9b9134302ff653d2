// The report's "Stages and settings" section: the method's stage table as this run ran it, and every
// knob of the fine-tuning recipe (config.ts SFT_KNOBS) with its value, so a reader sees what trained.
import { SFT_KNOBS, type MethodConfig, type SftSettings } from '../stages/config.ts';
import { stageTrains, type StageSpec } from '../stages/stage-table.ts';
import { mdTable } from './svg.ts';

export function settingsSection(c: MethodConfig, stages: readonly StageSpec[]): string[] {
  return [
    '## Stages and settings', '',
    mdTable(['Run folder', 'Stage', 'Setting', 'Starts from', 'Trains'], stages.map((s) => [s.name, `Stage ${s.stage}`, s.setting, s.startsFrom ?? 'base model', stageTrains(s, c.sft)])), '',
    `Fine-tuning recipe (the config's "sft" section; self-distillation α = ${c.sd.alpha}, ${c.sd.rounds} round(s)):`, '',
    mdTable(['Knob', 'Value', 'Meaning'], (Object.keys(SFT_KNOBS) as (keyof SftSettings)[]).map((k) => [k, JSON.stringify(c.sft[k]), SFT_KNOBS[k].what])), '',
  ];
}
