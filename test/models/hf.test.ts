import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { noGrad, read, scopeAsync } from '../../engine/index.ts';
import { readHfCheckpoint, writeHfCheckpoint } from '../../engine/safetensors.ts';
import { makeConfig } from '../../models/llama-config.ts';
import { exportHf, importHf } from '../../models/hf.ts';
import { disposeLlama, forwardHidden, initLlama, type Llama } from '../../models/llama.ts';
import { buildBatch } from '../../pipeline/train/batch.ts';

const seqs = [{ kind: 'lm' as const, ids: [3, 9, 4, 17, 2] }, { kind: 'lm' as const, ids: [5, 1, 30] }];
const hidden = (m: Llama) => scopeAsync(async () => read(noGrad(() => forwardHidden(m, buildBatch(seqs, 0, 8).batch))));

it('a model exported as a Hugging Face folder imports back with the same forward pass', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'csrm-hf-'));
  const m = initLlama(makeConfig('tiny', 37, { dim: 32, nHeads: 2, nKvHeads: 1, ffnDim: 48, tieEmbeddings: false }), 5);
  await exportHf(m, dir);
  const { config, tensors } = await readHfCheckpoint(dir);
  expect(config.model_type).toBe('llama');
  expect(tensors['model.layers.1.self_attn.k_proj.weight']!.shape).toEqual([16, 32]);
  const back = await importHf(dir);
  expect(back.config.nKvHeads).toBe(1);
  expect(Array.from(await hidden(back))).toEqual(Array.from(await hidden(m)));
  disposeLlama(back);
  // the same weights stored as BF16 (as many published checkpoints are) load within bf16 precision
  const bf: Record<string, { shape: number[]; data: Float32Array; dtype: 'BF16' }> = {};
  for (const [k, t] of Object.entries(tensors)) bf[k] = { shape: t.shape, data: t.data, dtype: 'BF16' };
  await writeHfCheckpoint(dir, config, bf);
  const b16 = await importHf(dir);
  const a = await hidden(m);
  const b = await hidden(b16);
  let num = 0;
  let den = 0;
  a.forEach((v, i) => ((num += (v - b[i]!) ** 2), (den += v * v)));
  expect(Math.sqrt(num / den)).toBeLessThan(2e-2);
  expect(Math.sqrt(num / den)).toBeGreaterThan(0);
  disposeLlama(b16);
  // Qwen2-style q/k/v biases are refused with the reason
  await writeHfCheckpoint(dir, config, { ...tensors, 'model.layers.0.self_attn.q_proj.bias': { shape: [32], data: new Float32Array(32) } });
  await expect(importHf(dir)).rejects.toThrow(/projection biases .* not supported/);
  disposeLlama(m);
  rmSync(dir, { recursive: true });
});
