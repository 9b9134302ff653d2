// Fused attention forward and backward (engine ops: 'ours' is the adapter's choice, labelled by the
// variant that ran; on the headline shape each variant the adapter has — rows, subgroup, flash — is
// also timed as its own row 'ours:<variant>'). FLOPs are the algorithmic counts:
// forward 2 matmuls = 4·B·H·T·S·Dh, backward 5 matmuls = 10·B·H·T·S·Dh, both halved when causal
// (T = S). Only the fused kernels are measured; softmax alone is bench/softmax.ts.
import type { BenchCase, BenchInstance, BenchOpts, BenchSuite } from './types.ts';
import * as E from '../engine/index.ts';
import { attentionBackward, attentionForwardRaw, attentionVariantFor, attentionVariants, setAttentionVariant, type AttentionVariant } from '../engine/ops/attention.ts';
import { attentionBackwardRef, attentionRef, type AttnDims } from '../engine/reference/attention.ts';
import { rng } from '../engine/random.ts';

interface Shape {
  B: number;
  H: number;
  Hkv: number;
  T: number;
  S: number;
  Dh: number;
  causal: boolean;
}

const FULL: Shape[] = [
  { B: 1, H: 12, Hkv: 12, T: 512, S: 512, Dh: 64, causal: true },
  { B: 1, H: 12, Hkv: 12, T: 512, S: 512, Dh: 64, causal: false },
  { B: 1, H: 14, Hkv: 2, T: 512, S: 512, Dh: 64, causal: true }, // grouped-query (Qwen2-0.5B heads)
  { B: 4, H: 8, Hkv: 8, T: 128, S: 128, Dh: 128, causal: true },
  { B: 1, H: 14, Hkv: 2, T: 1, S: 512, Dh: 64, causal: true }, // one decode step against a KV cache
  { B: 16, H: 4, Hkv: 2, T: 112, S: 112, Dh: 16, causal: true }, // the SFT step, tiny preset
  { B: 16, H: 4, Hkv: 2, T: 112, S: 112, Dh: 32, causal: true }, // the SFT step, small preset
];
const SMOKE: Shape[] = [
  { B: 1, H: 2, Hkv: 1, T: 7, S: 7, Dh: 32, causal: true },
  { B: 2, H: 2, Hkv: 2, T: 3, S: 9, Dh: 64, causal: false },
];

const name = (s: Shape) => `B${s.B}xH${s.H}/${s.Hkv}xT${s.T}xS${s.S}xD${s.Dh}${s.causal ? 'c' : ''}`;
const dims = (s: Shape): AttnDims => ({ ...s, scale: 1 / Math.sqrt(s.Dh), offset: s.S - s.T });
// causal self-attention visits half the score matrix
const work = (s: Shape) => s.B * s.H * s.T * s.S * s.Dh * (s.causal && s.T === s.S ? 0.5 : 1);

function data(n: number, seed: number): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: n }, () => r.normal());
}

function relErrOf(outs: ArrayLike<number>[], refs: ArrayLike<number>[]): number {
  const cat = (xs: ArrayLike<number>[]) => Float64Array.from(xs.flatMap((x) => Array.from(x)));
  return E.relErr(cat(outs), cat(refs));
}

function setupFor(s: Shape, withBackward: boolean, variant: AttentionVariant | null = null): () => Promise<BenchInstance> {
  return async () => {
    await E.initEngine();
    setAttentionVariant(variant);
    const before = E.liveBytes();
    const qd = data(s.B * s.T * s.H * s.Dh, 1);
    const kd = data(s.B * s.S * s.Hkv * s.Dh, 2);
    const vd = data(s.B * s.S * s.Hkv * s.Dh, 3);
    const gd = data(s.B * s.T * s.H * s.Dh, 4);
    const q = E.keep(E.tensor(qd, [s.B, s.T, s.H, s.Dh]));
    const k = E.keep(E.tensor(kd, [s.B, s.S, s.Hkv, s.Dh]));
    const v = E.keep(E.tensor(vd, [s.B, s.S, s.Hkv, s.Dh]));
    const dO = E.keep(E.tensor(gd, q.shape));
    const d = dims(s);
    // backward cases keep one forward (O, LSE) and run the backward kernels on it
    const saved = withBackward ? E.keep(attentionForwardRaw(q, k, v, undefined, d)) : [];
    const ran = attentionVariantFor(d);
    setAttentionVariant(null);
    let outs: E.Tensor[] = [];
    const run = async () => {
      for (const t of outs) t.dispose();
      setAttentionVariant(variant);
      try {
        outs = E.keep(withBackward ? attentionBackward(q, k, v, undefined, saved[0]!, saved[1]!, dO, d) : [E.noGrad(() => E.attention(q, k, v, { causal: s.causal }))]);
      } finally {
        setAttentionVariant(null); // the choice is global: restore it at once
      }
      await E.sync();
    };
    await run();
    return {
      run,
      ...(variant === null ? { variant: ran } : {}),
      peakBytes: E.liveBytes() - before,
      async relErr() {
        if (withBackward) {
          const ref = attentionBackwardRef(qd, kd, vd, null, gd, d);
          return relErrOf(await Promise.all(outs.map((t) => E.read(t))), [ref.dq, ref.dk, ref.dv]);
        }
        return E.relErr(await E.read(outs[0]!), attentionRef(qd, kd, vd, null, d).o);
      },
      dispose() {
        for (const t of [q, k, v, dO, ...saved, ...outs]) t.dispose();
      },
    };
  };
}

export const suite: BenchSuite = {
  name: 'attention',
  cases(opts: BenchOpts): BenchCase[] {
    const shapes = (opts.smoke ? SMOKE : FULL).filter((s) => opts.size === undefined || s.T === opts.size);
    return shapes.flatMap((s, i): BenchCase[] =>
      ([false, true] as const).flatMap((bwd): BenchCase[] => {
        const c = { kernel: bwd ? 'attention_bwd' : 'attention_fwd', shape: name(s), flops: (bwd ? 10 : 4) * work(s), ceiling: 'compute' as const };
        const each = i === 0 ? attentionVariants().map((v): BenchCase => ({ ...c, system: `ours:${v}`, setup: setupFor(s, bwd, v) })) : [];
        return [{ ...c, system: 'ours', tune: { attention: [s] }, setup: setupFor(s, bwd) }, ...each];
      }),
    );
  },
};
