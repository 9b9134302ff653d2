// AdamW with decoupled weight decay and bias correction (torch.optim.AdamW semantics), one fused
// kernel launch per group of up to k parameters (k from the storage-binding limit: 4 on lavapipe's
// 16 bindings). Parameters keep their identity: p, m and v are updated in place. Parameters
// without a gradient are skipped for that step, as PyTorch does.
import { fill, type HostData } from '../create.ts';
import { unaryRaw } from '../ops/elementwise.ts';
import { grid1d, launch, upload } from '../runtime.ts';
import { keep, release } from '../scope.ts';
import { Tensor } from '../tensor.ts';
import { adamwStep, ADAMW_VPT, ADAMW_WG } from '../../kernels/adamw/step.ts';
import { adamwRef, type AdamwHyper } from '../reference/adamw.ts';
import { chunks, slotsPerLaunch } from './group.ts';

/** The defaults of the hyper-parameters an AdamwOpts leaves out (torch.optim.AdamW's, with weight decay 0.01). */
export const ADAMW_DEFAULTS = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 } as const;

export interface AdamwOpts {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Parameters that take no weight decay (e.g. embedding tables and norm gains); the rest decay. */
  noDecay?: readonly Tensor[];
}

export interface AdamwState {
  step: number;
  m: Tensor[];
  v: Tensor[];
}

/** State to load: tensors, or host arrays (e.g. from loadCheckpoint) in parameter order. */
export interface AdamwStateIn {
  step: number;
  m: (Tensor | HostData)[];
  v: (Tensor | HostData)[];
}

export interface Adamw {
  step(lr?: number): void;
  /** The live moment tensors (owned by the optimizer; read, do not dispose). */
  state(): AdamwState;
  load(state: AdamwStateIn): void;
  dispose(): void;
}

export function adamw(params: Tensor[], opts: AdamwOpts): Adamw {
  const h: AdamwHyper = {
    lr: opts.lr,
    beta1: opts.beta1 ?? ADAMW_DEFAULTS.beta1,
    beta2: opts.beta2 ?? ADAMW_DEFAULTS.beta2,
    eps: opts.eps ?? ADAMW_DEFAULTS.eps,
    weightDecay: opts.weightDecay ?? ADAMW_DEFAULTS.weightDecay,
  };
  if (!(h.beta1 >= 0 && h.beta1 < 1 && h.beta2 >= 0 && h.beta2 < 1 && h.eps >= 0 && h.lr >= 0 && h.weightDecay >= 0)) {
    throw new Error(`adamw: invalid hyper-parameters ${JSON.stringify(h)}`);
  }
  for (const p of params) {
    if (p.dtype !== 'f32') throw new Error(`adamw: parameter ${p} is not f32`);
    if (p.backend !== params[0]!.backend) throw new Error(`adamw: parameters on different backends (${p} vs ${params[0]})`);
  }
  const m = params.map((p) => keep(fill(p.shape, 0, p.backend)));
  const v = params.map((p) => keep(fill(p.shape, 0, p.backend)));
  const exempt = new Set(opts.noDecay ?? []);
  for (const p of exempt) if (!params.includes(p)) throw new Error(`adamw: noDecay tensor ${p} is not one of the parameters`);
  const decays = (i: number) => !exempt.has(params[i]!);
  let t = 0;
  let disposed = false;

  function stepGpu(idx: number[], lr: number): void {
    const k = slotsPerLaunch(4, 0);
    const bc1 = 1 - h.beta1 ** t;
    const bc2 = 1 - h.beta2 ** t;
    // a launch binds one decay factor, so decayed and exempt parameters launch apart
    const groups = [...chunks(idx.filter(decays), k), ...chunks(idx.filter((i) => !decays(i)), k)];
    for (const grp of groups) {
      const wd = decays(grp[0]!) ? h.weightDecay : 0;
      const ends: number[] = [];
      let e = 0;
      for (const i of grp) ends.push((e += Math.ceil(params[i]!.size / 4)));
      const binds = grp.flatMap((i) => [params[i]!, params[i]!.grad!, m[i]!, v[i]!]);
      const hyper = [lr, h.beta1, h.beta2, h.eps, 1 - h.beta1, 1 - h.beta2, 1 - lr * wd, bc1, bc2].map((f) => ({ f }));
      launch(adamwStep(grp.length), binds, grid1d(Math.ceil(e / (ADAMW_WG * ADAMW_VPT))), [...hyper, ...ends], 'adamw');
    }
  }

  return {
    step(lr = h.lr) {
      if (disposed) throw new Error('adamw: step() after dispose()');
      const idx = params.map((_, i) => i).filter((i) => params[i]!.grad && params[i]!.size > 0);
      for (const i of idx) {
        const g = params[i]!.grad!;
        if (g.shape.join(',') !== params[i]!.shape.join(',') || g.backend !== params[i]!.backend) {
          throw new Error(`adamw: gradient ${g} does not match parameter ${params[i]}`);
        }
      }
      t++;
      if (params[0]?.backend === 'cpu') {
        for (const i of idx) {
          const p = params[i]!;
          adamwRef(p.cpu as Float64Array, p.grad!.cpu as Float64Array, m[i]!.cpu as Float64Array, v[i]!.cpu as Float64Array, t, { ...h, lr, weightDecay: decays(i) ? h.weightDecay : 0 });
        }
      } else stepGpu(idx, lr);
    },
    state: () => ({ step: t, m, v }),
    load(s) {
      if (s.m.length !== params.length || s.v.length !== params.length) {
        throw new Error(`adamw: state has ${s.m.length}/${s.v.length} moments for ${params.length} parameters`);
      }
      const put = (dst: Tensor, src: Tensor | HostData, what: string) => {
        const n = src instanceof Tensor ? src.size : src.length;
        if (n !== dst.size) throw new Error(`adamw: ${what} has ${n} values, parameter needs ${dst.size}`);
        if (src instanceof Tensor) {
          if (src.backend !== dst.backend) throw new Error(`adamw: ${what} ${src} is on another backend than ${dst}`);
          if (dst.backend === 'cpu') (dst.cpu as Float64Array).set(src.cpu as Float64Array);
          else {
            // copy on the device, then swap storage: dst keeps its identity
            const c = unaryRaw('copy', src);
            const old = dst.gpu;
            dst.gpu = c.gpu;
            c.gpu = old;
            c.dispose();
          }
        } else if (dst.backend === 'cpu') (dst.cpu as Float64Array).set(src);
        else upload(dst, Float32Array.from(src));
      };
      params.forEach((_, i) => {
        put(m[i]!, s.m[i]!, `m[${i}]`);
        put(v[i]!, s.v[i]!, `v[${i}]`);
      });
      t = s.step;
    },
    dispose() {
      disposed = true;
      release(...m, ...v);
    },
  };
}

