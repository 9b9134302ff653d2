// Settings of the online-model stage (section 3.5 / 6.1), an optional `online` section of a method
// config: anything left out takes the defaults for the market preset, so older configs still load.
import type { TwinTowerConfig } from '../../models/twin-tower.ts';
import { int, oneOf, posInt, posNum, resolveSection, type Section } from '../stages/config-knobs.ts';
import { KD_SIZES, type KdPreset } from './kd-data.ts';

export interface OnlineConfig {
  /** KD candidate sizes preset (M impressed + N EBR per query). */
  kd: KdPreset;
  /** At most this many target-market queries of the behaviour logs are labelled by the teacher. */
  maxQueries: number;
  model: Omit<TwinTowerConfig, 'vocabSize' | 'normEps' | 'ropeTheta'>;
  steps: number;
  batchSize: number;
  /** Peak AdamW learning rate (paper 8e-5 for its BERT-sized towers); decays linearly to 1/80 of it. */
  lr: number;
  /** s of p̂ = σ(s·c) (paper: 8). */
  scale: number;
  seed: number;
}

const DEFAULTS: Record<KdPreset, OnlineConfig> = {
  tiny: { kd: 'tiny', maxQueries: 24, model: { dim: 32, nLayers: 1, nHeads: 2, ffnDim: 64, outDim: 128, maxLen: 32 }, steps: 120, batchSize: 32, lr: 3e-3, scale: 8, seed: 21 },
  demo: { kd: 'demo', maxQueries: 120, model: { dim: 64, nLayers: 2, nHeads: 4, ffnDim: 128, outDim: 128, maxLen: 40 }, steps: 600, batchSize: 64, lr: 2e-3, scale: 8, seed: 21 },
  paper: { kd: 'paper', maxQueries: 2000, model: { dim: 128, nLayers: 2, nHeads: 4, ffnDim: 256, outDim: 128, maxLen: 48 }, steps: 3000, batchSize: 128, lr: 1e-3, scale: 8, seed: 21 },
};

/** The config's optional "online" section: checked like every section (config-knobs.ts); what it leaves out takes the market preset's defaults. */
export const ONLINE_SECTION: Section = {
  what: 'online twin-tower distillation (csrm distill-online)', optional: true,
  knobs: {
    kd: { what: 'KD candidate sizes preset', optional: true, check: oneOf(Object.keys(KD_SIZES)) },
    maxQueries: { what: 'target-market queries labelled by the teacher, at most', optional: true, check: posInt },
    model: {
      what: 'the twin towers', optional: true,
      knobs: Object.fromEntries(['dim', 'nLayers', 'nHeads', 'ffnDim', 'outDim', 'maxLen'].map((k) => [k, { what: k, optional: true, check: posInt }])),
    },
    steps: { what: 'training steps per tower', optional: true, check: posInt },
    batchSize: { what: 'pairs per batch', optional: true, check: posInt },
    lr: { what: 'peak AdamW learning rate', optional: true, check: posNum },
    scale: { what: 's of p̂ = σ(s·c)', optional: true, check: posNum },
    seed: { what: 'seed of the towers', optional: true, check: int },
  },
};

export function onlineConfig(marketPreset: KdPreset, over: Partial<OnlineConfig> = {}, where = 'config'): OnlineConfig {
  const checked = resolveSection(over, ONLINE_SECTION, 'online', (why) => {
    throw new Error(`${where}: ${why}`);
  }) as Partial<OnlineConfig>;
  const d = DEFAULTS[marketPreset];
  return { ...d, ...checked, model: { ...d.model, ...(checked.model ?? {}) } };
}
