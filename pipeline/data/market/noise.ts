// Human-label noise on training splits (the paper's raters "inevitably" err, section 2). Confusions
// follow how raters disagree: exact ↔ substitute most often, substitute ↔ irrelevant next, and
// exact ↔ irrelevant rarely. Dev and test stay clean, as the paper keeps only 7-of-8 agreed labels.
import type { Label } from '../schema.ts';
import type { Rng } from './rng.ts';

/** CONFUSION[true] = probabilities of the wrong label given an error, indexed by label. */
export const CONFUSION: Record<Label, [number, number, number]> = {
  0: [0, 0.8, 0.2],
  1: [0.45, 0, 0.55],
  2: [0.15, 0.85, 0],
};

export function noisyLabel(truth: Label, rate: number, rng: Rng): Label {
  if (!rng.chance(rate)) return truth;
  return rng.weighted(CONFUSION[truth]) as Label;
}
