// Attention at head dim 128 (Llama-style 7B/8B heads): the GPU kernels against the float64 reference.
// Its own file because lavapipe compiles the four Dh-128 kernels for minutes on a cold shader cache
// (this case took 155 s in a fresh clone; the forward kernel alone compiled in 99 s here beside other
// work; seconds once Mesa's shader cache holds them), so `npm run test:fast` leaves it out and `npm test` (CI) runs it.
import { afterAll, describe, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { checkOnGpu, label, randomCase, type Case } from './attention-cases.ts';

afterAll(() => E.setAttentionVariant(null));

describe('attention at head dim 128: GPU kernels against the float64 naive reference', () => {
  const cases: Case[] = [{ B: 1, T: 7, S: 9, H: 2, Hkv: 1, Dh: 128, causal: true, lens: [6] }, randomCase(128), randomCase(128)];
  for (const c of cases) it(label(c), () => checkOnGpu(c));
});

// Head dim 256 (tiles of 7 keys, 6 queries) passed the same check, but lavapipe compiles its three
// kernels for ≈ 4 minutes on a cold shader cache, too long for CI.
describe('attention at head dim 128, flash kernels (tiles of 13 keys, 12 queries): against the float64 reference', () => {
  const cases: Case[] = [{ B: 1, T: 37, S: 40, H: 2, Hkv: 1, Dh: 128, causal: true, lens: [33] }];
  for (const c of cases)
    it(label(c), async () => {
      E.setAttentionVariant('flash');
      await checkOnGpu(c);
    });
});
