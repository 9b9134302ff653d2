// Plain SGD with optional momentum: p ← p − lr·(v ← μ·v + g). Used by the engine demo and tests;
// the transformer work uses the fused AdamW in optim/adamw.ts.
import { noGrad } from '../autograd.ts';
import { keep, release } from '../scope.ts';
import { Tensor } from '../tensor.ts';
import { add, mulScalar, sub } from '../ops/elementwise.ts';

export interface Sgd {
  step(): void;
  dispose(): void;
}

export function sgd(params: Tensor[], lr: number, momentum = 0): Sgd {
  const vel = new Map<Tensor, Tensor>();
  return {
    step() {
      noGrad(() => {
        for (const p of params) {
          if (!p.grad) continue;
          let upd = p.grad;
          if (momentum > 0) {
            const prev = vel.get(p);
            const v = prev ? add(mulScalar(prev, momentum), p.grad) : mulScalar(p.grad, 1);
            release(prev);
            vel.set(p, keep(v));
            upd = v;
          }
          const step = mulScalar(upd, lr);
          const np = sub(p, step);
          step.dispose();
          // swap storage: parameters keep their identity (and tape-free status)
          const old = p.gpu ?? null;
          p.gpu = np.gpu;
          p.cpu = np.cpu;
          np.gpu = old;
          np.cpu = null;
          np.dispose();
        }
      });
    },
    dispose() {
      release(...vel.values());
      vel.clear();
    },
  };
}
