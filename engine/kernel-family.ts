// Which family of kernels an op runs where it has two: 'rows' (one invocation per output row, every
// lane loading what it reads) or 'subgroup' (rows every lane of a subgroup reads are loaded once per
// subgroup, spread over the lanes, and handed out with subgroupBroadcast). On CPU adapters
// (lavapipe) every non-constant storage load costs each lane ≈ 9 instructions, so the subgroup
// family wins there (measured per op: engine/ops/attention.ts, engine/ops/gather.ts); on hardware
// GPUs the row kernels stay until measured. The subgroup kernels need the adapter's fixed subgroup
// size (engine/device.ts probes it) to divide their workgroup.
// setKernelFamily or CSRM_KERNELS=rows|subgroup forces one family (tests run both).
import { gpuSync } from './device.ts';
import { engineSwitch } from './switches.ts';

export type KernelFamily = 'rows' | 'subgroup';
let forced: KernelFamily | null = null;

/** Forces one family for every op that has both (tests, benchmarks); null restores the adapter's choice. */
export function setKernelFamily(f: KernelFamily | null): void {
  if (f !== null && f !== 'rows' && f !== 'subgroup') throw new Error(`setKernelFamily: unknown family "${f}" (rows or subgroup)`);
  forced = f;
}

/** The family forced by setKernelFamily or CSRM_KERNELS, or null when the adapter chooses. */
export function forcedKernelFamily(): KernelFamily | null {
  const force = forced ?? engineSwitch('CSRM_KERNELS');
  if (force !== undefined && force !== 'rows' && force !== 'subgroup') throw new Error(`CSRM_KERNELS="${force}": expected "rows" or "subgroup"`);
  return force ?? null;
}

/** Whether subgroup kernels with workgroups of `wg` invocations can run on this adapter. */
export function subgroupKernelsUsable(wg: number): boolean {
  const SG = gpuSync().info.subgroupSize;
  return SG !== null && wg % SG === 0;
}

/** The subgroup size a subgroup kernel with workgroups of `wg` runs with, or null for the row kernel. */
export function subgroupKernelSize(wg: number): number | null {
  const info = gpuSync().info;
  const force = forcedKernelFamily();
  const usable = subgroupKernelsUsable(wg);
  if (force === 'subgroup' && !usable) throw new Error(`CSRM_KERNELS=subgroup: the adapter has no fixed subgroup size dividing ${wg}`);
  return usable && (force === 'subgroup' || (force === null && info.isSoftware)) ? info.subgroupSize : null;
}
