// Cases of the attention tests (attention.test.ts, attention-wide-heads.test.ts): shapes, random
// inputs, the op under test and the GPU-against-float64 check.
import { expect } from 'vitest';
import * as E from '../../engine/index.ts';
import { gpucheck, type CheckInput } from '../../engine/index.ts';
import type { AttnDims } from '../../engine/reference/attention.ts';
import { input, rng } from '../util.ts';

const r = rng(2024);

export interface Case extends Omit<AttnDims, 'scale' | 'offset'> {
  lens: number[] | null;
  offset?: number;
}

export const label = (c: Case) =>
  `B${c.B} T${c.T} S${c.S} H${c.H}/${c.Hkv} Dh${c.Dh} ${c.causal ? 'causal' : 'full'}${c.lens ? ` lens=[${c.lens}]` : ''}${c.offset !== undefined ? ` off=${c.offset}` : ''}`;

export function inputs(c: Case): CheckInput[] {
  const ins = [input(r, [c.B, c.T, c.H, c.Dh], 0.1, 2), input(r, [c.B, c.S, c.Hkv, c.Dh], 0.1, 2), input(r, [c.B, c.S, c.Hkv, c.Dh])];
  if (c.lens) ins.push({ shape: [c.B], data: c.lens, dtype: 'i32' });
  return ins;
}

export function fn(c: Case) {
  return (q: E.Tensor, k: E.Tensor, v: E.Tensor, lens?: E.Tensor) =>
    E.attention(q, k, v, { causal: c.causal, keyLengths: lens, queryOffset: c.offset });
}

/** Random cases: T includes 1 and sizes that are not multiples of the 32-row workgroup. */
export function randomCase(Dh: number): Case {
  const B = 1 + r.int(3);
  const T = r.uniform() < 0.25 ? 1 : 1 + r.int(Dh === 128 ? 12 : 40);
  const causal = r.uniform() < 0.6;
  const S = causal && r.uniform() < 0.5 ? T : T + r.int(20); // self-attention or a longer KV cache
  const Hkv = 1 + r.int(3);
  const H = Hkv * (1 + r.int(3));
  const lens = r.uniform() < 0.5 ? Array.from({ length: B }, () => 1 + r.int(S)) : null;
  return { B, T, S, H, Hkv, Dh, causal, lens };
}

/** Forward and the three input gradients on the GPU against the float64 reference (rel err ≤ 1e-4). */
export async function checkOnGpu(c: Case): Promise<void> {
  const res = await gpucheck(fn(c), inputs(c), { fwdTol: 1e-4, bwdTol: 1e-4 });
  expect(res.fwdErr).toBeLessThan(1e-4);
  expect(res.bwdErr.length).toBe(3);
}
