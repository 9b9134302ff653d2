// Multi-tensor launches: WGSL cannot index bindings dynamically, so a kernel that updates many
// tensors binds `k` of them and lays them end to end in one index space. This picks k from the
// device's storage-binding limit and splits a list into launch groups.
import { gpuSync } from '../device.ts';

/** Largest k ≤ maxK with k·perSlot + extra storage bindings within the device limit. */
export function slotsPerLaunch(perSlot: number, extra: number, maxK = 8): number {
  const lim = gpuSync().info.limits.maxStorageBuffersPerShaderStage ?? 8;
  return Math.max(1, Math.min(maxK, Math.floor((lim - extra) / perSlot)));
}

export function chunks<T>(xs: T[], k: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += k) out.push(xs.slice(i, i + k));
  return out;
}
