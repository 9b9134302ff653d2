// The shape of a kernel as the engine launches it: WGSL source after specialisation plus how its
// bindings are used. Kernels know nothing of tensors; engine/runtime.ts binds and dispatches them.
export type Access = 'r' | 'rw';

/** A WGSL compute kernel (entry point `main`). Binding 0 is the uniform block when `params` is set;
 * storage bindings follow in order. */
export interface Kernel {
  name: string;
  code: string;
  bindings: Access[];
  params: boolean;
  /** The kernel reads or writes f16 data in its bindings (as f16 or as packed words). Kernels without
   * it index 4-byte elements, so the engine refuses to bind an f16 tensor to them. */
  f16?: boolean;
}

export function kernel(name: string, code: string, bindings: Access[], params = true): Kernel {
  return { name, code, bindings, params };
}

/** Marks a kernel as one that handles f16 tensors in its bindings. */
export function f16Kernel(k: Kernel): Kernel {
  return { ...k, f16: true };
}

/** Linear invocation index for 1-D work folded into a 2-D grid (see grid1d in the engine). */
export const LINEAR_INDEX = (wg: number) => `(gid.x + gid.y * nw.x * ${wg}u)`;

/**
 * A kernel factory that builds each distinct kernel once. Ops call their factories on every launch;
 * building the WGSL anew and then hashing those few kB to find the compiled pipeline cost ≈ 20 µs of
 * the JS thread a launch, ≈ 2 ms of a training step of the tiny model (measured 2026-12-02).
 */
export function memoKernel<A extends readonly (string | number | boolean)[]>(build: (...args: A) => Kernel): (...args: A) => Kernel {
  const made = new Map<string, Kernel>();
  return (...args: A) => {
    const key = args.join('\u0000');
    let k = made.get(key);
    if (!k) made.set(key, (k = build(...args)));
    return k;
  };
}
