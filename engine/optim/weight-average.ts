// Weight averaging (Polyak–Ruppert, exponential form): after each optimizer step
//   avg ← avg + (1 − decay) · (p − avg)
// one fused 'lerp' launch per tensor. It starts at the parameters' values when it is made, so it
// needs no bias correction. Training reads the parameters; evaluation swaps the averages in
// (swap() exchanges storage, so the parameter tensors keep their identity) and swaps them back.
import { noGrad } from '../autograd.ts';
import { binaryRaw, unaryRaw } from '../ops/elementwise.ts';
import { keep, release } from '../scope.ts';
import { Tensor } from '../tensor.ts';

export interface WeightAverage {
  readonly decay: number;
  /** avg ← avg + (1 − decay)·(p − avg) for every tensor. */
  update(): void;
  /** Exchanges the storage of the parameters and their averages (call twice to undo). */
  swap(): void;
  /** The averages by the parameters' names (owned here: read, do not dispose). */
  tensors(): Record<string, Tensor>;
  dispose(): void;
}

/** Storage exchange between two tensors of one shape and dtype: both keep their identity. */
function exchange(a: Tensor, b: Tensor): void {
  [a.gpu, b.gpu] = [b.gpu, a.gpu];
  [a.cpu, b.cpu] = [b.cpu, a.cpu];
}

export function weightAverage(params: Record<string, Tensor>, decay: number): WeightAverage {
  if (!(decay > 0 && decay < 1)) throw new Error(`weightAverage: decay ${decay} must be in (0, 1)`);
  const names = Object.keys(params);
  for (const n of names) if (params[n]!.dtype !== 'f32') throw new Error(`weightAverage: "${n}" is ${params[n]!.dtype}, not f32`);
  const avg: Record<string, Tensor> = noGrad(() => Object.fromEntries(names.map((n) => [n, keep(unaryRaw('mul_scalar', params[n]!, 1))])));
  return {
    decay,
    update() {
      noGrad(() => {
        for (const n of names) {
          const next = binaryRaw('lerp', avg[n]!, params[n]!, 1 - decay);
          exchange(avg[n]!, next);
          next.dispose();
        }
      });
    },
    swap() {
      for (const n of names) exchange(params[n]!, avg[n]!);
    },
    tensors: () => avg,
    dispose() {
      release(...Object.values(avg));
    },
  };
}
