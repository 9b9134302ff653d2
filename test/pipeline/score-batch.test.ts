// Scoring batches rows by length (train/score.ts); a row's probabilities must not depend on which
// rows share its batch, so the batch size is a matter of speed only.
import { describe, expect, it } from 'vitest';
import { disposeLlama, initLlama } from '../../models/llama.ts';
import { makeConfig } from '../../models/llama-config.ts';
import { rng } from '../../engine/random.ts';
import { scoreSeqs } from '../../pipeline/train/score.ts';

describe('scoreSeqs', () => {
  it('gives each sample the same probabilities at batch sizes 1, 7 and the default', async () => {
    const V = 300;
    const m = initLlama(makeConfig('tiny', V), 5);
    const r = rng(77);
    const seqs = Array.from({ length: 37 }, () => ({ kind: 'relevance' as const, ids: Array.from({ length: 3 + r.int(40) }, () => 4 + r.int(V - 4)), hard: r.int(3) as 0 | 1 | 2, soft: null }));
    const whole = await scoreSeqs(m, seqs, [1, 2, 3], 0, 64);
    for (const batchSize of [1, 7]) {
      const p = await scoreSeqs(m, seqs, [1, 2, 3], 0, 64, { batchSize });
      p.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(whole[i]![j]!, 6)));
    }
    // the samples are told apart: a mix-up of rows would not pass the comparison above
    expect(new Set(whole.map((p) => p[0].toFixed(6))).size).toBeGreaterThan(30);
    disposeLlama(m);
  });
});
