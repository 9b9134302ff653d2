// The paper's losses, one module: see README.md in this folder for where each lives and its laws.
export { threeTokenCE, threeTokenProbs, type LabelIds, type ThreeTokenCEOpts } from './ce3.ts';
export { lmCrossEntropy, type LmCrossEntropyOpts } from './lm-ce.ts';
export { lmHeadCrossEntropy, type LmHeadCrossEntropyOpts } from './lm-head-ce.ts';
export { kdBce, type KdBceOpts } from './kd-bce.ts';
export { ebrDistill, type EbrDistillOpts } from './ebr.ts';
