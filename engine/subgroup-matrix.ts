// Subgroup matrices (Dawn's chromium-experimental-subgroup-matrix: cooperative matrices / tensor cores
// from WGSL). The adapter lists the shapes it multiplies ({component, result, M, N, K}); which WGSL
// spelling of the builtins this Dawn accepts changed in 2026, so the device is probed: each spelling
// compiles and runs one M×K·K×N product of small integers (exact in f16 and f32), and the first one
// that compiles AND gives the exact product is used. A wrong majorness or stride would fail here,
// not inside a model. Adapters without the feature (lavapipe) skip all of this.
import {
  SUBGROUP_MATRIX_SYNTAXES,
  subgroupMatrixProbeSource,
  type SubgroupMatrixSyntax,
} from '../kernels/matmul/subgroup-matrix-syntax.ts';
import { runOneWorkgroup } from './probe-run.ts';

export const SUBGROUP_MATRIX_FEATURE = 'chromium-experimental-subgroup-matrix';

export type SgmComponent = 'f32' | 'f16' | 'u32' | 'i32' | 'u8' | 'i8' | string;

export interface SubgroupMatrixConfig {
  component: SgmComponent;
  result: SgmComponent;
  M: number;
  N: number;
  K: number;
}

export interface SubgroupMatrixInfo {
  configs: SubgroupMatrixConfig[];
  /** The spelling that compiled and multiplied exactly; null when none did (the kernels are then off). */
  syntax: SubgroupMatrixSyntax | null;
  /** The f16 × f16 → f32 configuration the matmul uses (the probe ran it); null if the adapter has none. */
  f16: SubgroupMatrixConfig | null;
  /** Whether the found spelling also works with the subgroup_id builtin as the subgroup's index (the
   * probe tries the local-index form first; kernels may prefer the builtin: a value the driver knows
   * is uniform per subgroup). */
  builtinIndex?: boolean;
  /** The adapter's largest subgroup size (a subgroup-matrix workgroup's x size must be a multiple). */
  subgroupMaxSize: number;
  /** Why the kernels are off, when they are. */
  problem: string | null;
}

// webgpu.h's WGPUSubgroupMatrixComponentType, for a binding that reports enum values as numbers
const COMPONENT_BY_ENUM: Record<number, string> = { 1: 'f32', 2: 'f16', 3: 'u32', 4: 'i32', 5: 'u8', 6: 'i8' };

function component(x: unknown): SgmComponent {
  if (typeof x === 'number') return COMPONENT_BY_ENUM[x] ?? `enum${x}`;
  return String(x).toLowerCase();
}

/** The adapter's configurations as plain data (dawn.node: adapter.info.subgroupMatrixConfigs). */
export function subgroupMatrixConfigs(info: GPUAdapterInfo): SubgroupMatrixConfig[] {
  const raw = (info as unknown as { subgroupMatrixConfigs?: Iterable<Record<string, unknown>> }).subgroupMatrixConfigs;
  if (!raw) return [];
  return [...raw].map((c) => ({
    component: component(c.componentType),
    result: component(c.resultComponentType),
    M: Number(c.M),
    N: Number(c.N),
    K: Number(c.K),
  }));
}

export async function probeSubgroupMatrix(device: GPUDevice, adapterInfo: GPUAdapterInfo): Promise<SubgroupMatrixInfo> {
  const configs = subgroupMatrixConfigs(adapterInfo);
  const subgroupMaxSize = Number((adapterInfo as unknown as { subgroupMaxSize?: number }).subgroupMaxSize ?? 0) || 32;
  const f16 = configs.find((c) => c.component === 'f16' && c.result === 'f32') ?? null;
  const base = { configs, subgroupMaxSize, f16 };
  if (!f16) return { ...base, syntax: null, problem: 'the adapter lists no f16 × f16 → f32 configuration' };
  if (!device.features.has('shader-f16')) return { ...base, syntax: null, problem: 'shader-f16 is missing' };
  const problems: string[] = [];
  for (const s of SUBGROUP_MATRIX_SYNTAXES) {
    const why = await tryProduct(device, s, f16, subgroupMaxSize);
    if (why === null) {
      const builtinIndex =
        s.index === 'builtin' || (device.features.has('subgroups') && (await tryProduct(device, { ...s, index: 'builtin' }, f16, subgroupMaxSize)) === null);
      return { ...base, syntax: s, builtinIndex, problem: null };
    }
    problems.push(`load ${s.load}/store ${s.store}: ${why}`);
  }
  return { ...base, syntax: null, problem: problems.join('; ') };
}

/** Integer test values, exact in f16 and their products' sums exact in f32. */
function probeValue(i: number): number {
  return ((i * 7) % 5) - 2;
}

/** f16 bits of a small integer (|v| ≤ 2048). */
function f16Bits(v: number): number {
  if (v === 0) return 0;
  const sign = v < 0 ? 0x8000 : 0;
  let m = Math.abs(v);
  let e = 0;
  while (m >= 2) {
    m /= 2;
    e++;
  }
  return sign | ((e + 15) << 10) | Math.round((m - 1) * 1024);
}

/** Runs the probe product in syntax `s`; null when exact, else the reason. */
async function tryProduct(device: GPUDevice, s: SubgroupMatrixSyntax, c: SubgroupMatrixConfig, wg: number): Promise<string | null> {
  const n = Math.max(c.M * c.K, c.K * c.N);
  const halves = new Uint16Array(n + (n % 2));
  for (let i = 0; i < n; i++) halves[i] = f16Bits(probeValue(i));
  const aBuf = device.createBuffer({ size: Math.max(16, halves.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const cBuf = device.createBuffer({ size: 4 * c.M * c.N, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  try {
    device.queue.writeBuffer(aBuf, 0, halves);
    device.pushErrorScope('validation');
    device.pushErrorScope('internal');
    const module = device.createShaderModule({ code: subgroupMatrixProbeSource(s, c, wg) });
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    const internal = await device.popErrorScope();
    const validation = await device.popErrorScope();
    const err = validation ?? internal;
    if (err) return err.message.split('\n').slice(0, 3).join(' ').slice(0, 300);
    const got = new Float32Array(await runOneWorkgroup(device, pipeline, [aBuf, cBuf], cBuf, 4 * c.M * c.N));
    // left (m, k) = a[m·K + k] row-major; right (k, n) = t[n·K + k] col-major
    for (let m = 0; m < c.M; m++) {
      for (let j = 0; j < c.N; j++) {
        let want = 0;
        for (let k = 0; k < c.K; k++) want += probeValue(m * c.K + k) * probeValue(j * c.K + k);
        if (got[m * c.N + j] !== want) return `wrong product: C[${m}][${j}] = ${got[m * c.N + j]}, expected ${want}`;
      }
    }
    return null;
  } catch (e) {
    return (e as Error).message.slice(0, 300);
  } finally {
    aBuf.destroy();
    cBuf.destroy();
  }
}
