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
