// Settings of the online-model stage (section 3.5 / 6.1), an optional `online` section of a method
// config: anything left out takes the defaults for the market preset, so older configs still load.
import type { TwinTowerConfig } from '../../models/twin-tower.ts';
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

export function onlineConfig(marketPreset: KdPreset, over: Partial<OnlineConfig> = {}, where = 'config'): OnlineConfig {
  const d = DEFAULTS[marketPreset];
  const c: OnlineConfig = { ...d, ...over, model: { ...d.model, ...(over.model ?? {}) } };
  const bad = (why: string) => {
    throw new Error(`${where}: online.${why}`);
  };
  if (!(c.kd in KD_SIZES)) bad(`kd "${c.kd}" is not one of ${Object.keys(KD_SIZES).join(', ')}`);
  for (const k of ['maxQueries', 'steps', 'batchSize', 'seed'] as const) if (!(Number.isInteger(c[k]) && c[k] >= (k === 'seed' ? 0 : 1))) bad(`${k} ${c[k]} must be a positive integer`);
  if (!(c.lr > 0)) bad(`lr ${c.lr} must be > 0`);
  if (!(c.scale > 0)) bad(`scale ${c.scale} must be > 0`);
  return c;
}
