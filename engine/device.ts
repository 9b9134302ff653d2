// The one owner of Dawn: instance, adapter choice, device limits/features, error routing, shutdown.
// Everything GPU in the engine asks this module for the device; nothing else calls `create()`.
import { create, globals } from 'webgpu';
import { installPollSleep, uninstallPollSleep } from './dawn-poll.ts';
import { engineSwitch } from './switches.ts';
import { runOneWorkgroup } from './probe-run.ts';
import { probeSubgroupMatrix, SUBGROUP_MATRIX_FEATURE, type SubgroupMatrixInfo } from './subgroup-matrix.ts';

export interface DeviceInfo {
  adapter: string; // human-readable adapter description (vendor, architecture, device, backend)
  backend: string;
  features: string[];
  limits: Record<string, number>;
  isSoftware: boolean; // lavapipe / swiftshader: CPU rasterisers with different best kernels
  /** The subgroup size every compute subgroup has, with lanes in local-index order (probed); null when
   * the adapter has no subgroups or their size varies. Kernels built for a fixed size check this. */
  subgroupSize: number | null;
  /** Subgroup-matrix (tensor-core) support: the adapter's configurations and the WGSL builtin syntax
   * this Dawn compiles (engine/subgroup-matrix.ts); null without the experimental feature. */
  subgroupMatrix: SubgroupMatrixInfo | null;
}

export interface Gpu {
  device: GPUDevice;
  queue: GPUQueue;
  info: DeviceInfo;
  has(feature: GPUFeatureName | string): boolean;
}

let instance: GPU | null = null;
let current: Gpu | null = null;
let pending: Promise<Gpu> | null = null;
// Errors raised asynchronously by Dawn (validation, compilation, OOM). They are thrown from the
// next synchronisation point (readback/sync) so the caller sees them as ordinary JS errors.
const asyncErrors: string[] = [];
let currentKernel = '(none)';

/** Label of the kernel being encoded; used to name the culprit of an asynchronous error. */
export function setCurrentKernel(name: string): void {
  currentKernel = name;
}

export function takeAsyncError(): Error | null {
  if (asyncErrors.length === 0) return null;
  const msg = asyncErrors.splice(0).join('\n');
  return new Error(msg);
}

function describe(info: GPUAdapterInfo, backendHint: string): string {
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((s) => s && s.length > 0);
  return `${parts.join(' / ') || 'unknown adapter'} (${backendHint})`;
}

function parseEnvOptions(): string[] {
  // CSRM_BACKEND=vulkan|metal|d3d12|opengl picks Dawn's backend; CSRM_DAWN_TOGGLES enables toggles,
  // CSRM_DAWN_DISABLE_TOGGLES disables default-on ones (e.g. timestamp_quantization).
  const opts: string[] = [];
  const backend = engineSwitch('CSRM_BACKEND');
  if (backend) opts.push(`backend=${backend}`);
  // dawn.node's requestDevice takes no toggles in its descriptor: it chains the create() flags'
  // toggles onto every adapter and device request (GPUAdapter::requestDevice, TogglesLoader). On
  // NVIDIA/Vulkan, Dawn hides shader-f16 unless vulkan_enable_f16_on_nvidia is on; elsewhere the
  // toggle does nothing.
  const enable = ['vulkan_enable_f16_on_nvidia', ...(engineSwitch('CSRM_DAWN_TOGGLES')?.split(',').filter((t) => t.length > 0) ?? [])];
  opts.push(`enable-dawn-features=${enable.join(',')}`);
  const disable = engineSwitch('CSRM_DAWN_DISABLE_TOGGLES');
  if (disable) opts.push(`disable-dawn-features=${disable}`);
  return opts;
}

async function requestAdapters(gpu: GPU): Promise<GPUAdapter[]> {
  const out: GPUAdapter[] = [];
  for (const pref of ['high-performance', 'low-power'] as GPUPowerPreference[]) {
    const a = await gpu.requestAdapter({ powerPreference: pref });
    if (a && !out.some((b) => b.info.device === a.info.device && b.info.vendor === a.info.vendor)) out.push(a);
  }
  const fb = await gpu.requestAdapter({ forceFallbackAdapter: true }).catch(() => null);
  if (fb && !out.some((b) => b.info.device === fb.info.device)) out.push(fb);
  return out;
}

/** Returns the process-wide device, creating it on first use. CSRM_ADAPTER=substring picks an adapter. */
export function getGpu(): Promise<Gpu> {
  if (current) return Promise.resolve(current);
  if (!pending) pending = init().finally(() => (pending = null));
  return pending;
}

/** The Dawn `GPU` object the engine created (benchmark peers get it as `navigator.gpu` so they run
 * on the same instance and adapter). Null before getGpu() and after shutdownGpu(). */
export function gpuInstance(): GPU | null {
  return instance;
}

/** The device if it has been initialised; ops call this synchronously. */
export function gpuSync(): Gpu {
  if (!current) throw new Error('GPU not initialised: call `await initEngine()` (or getGpu()) before creating GPU tensors');
  return current;
}

async function init(): Promise<Gpu> {
  Object.assign(globalThis, globals);
  instance = create(parseEnvOptions());
  const adapters = await requestAdapters(instance);
  if (adapters.length === 0) {
    throw new Error(
      'No WebGPU adapter found. Dawn needs a Vulkan driver: on a machine without a GPU run `bash scripts/setup.sh` ' +
        '(installs Mesa lavapipe from bookworm-backports); on NVIDIA make sure the Vulkan ICD is installed.',
    );
  }
  const want = engineSwitch('CSRM_ADAPTER')?.toLowerCase();
  const backendHint = engineSwitch('CSRM_BACKEND') ?? 'default backend';
  let adapter = adapters[0]!;
  if (want) {
    const hit = adapters.find((a) => describe(a.info, backendHint).toLowerCase().includes(want));
    if (!hit) {
      const list = adapters.map((a, i) => `  [${i}] ${describe(a.info, backendHint)}`).join('\n');
      throw new Error(`CSRM_ADAPTER="${engineSwitch('CSRM_ADAPTER')}" matches no adapter. Available:\n${list}`);
    }
    adapter = hit;
  }
  // subgroup matrices are experimental in Dawn: listed only with the allow_unsafe_apis toggle
  // (CSRM_DAWN_TOGGLES=allow_unsafe_apis; scripts/gpu-run.sh sets it)
  const optional = ['shader-f16', 'timestamp-query', 'subgroups', SUBGROUP_MATRIX_FEATURE] as GPUFeatureName[];
  const requiredFeatures = optional.filter((f) => adapter.features.has(f));
  // Dawn's default limits cap a storage binding at 128 MiB; ask for everything the adapter has.
  const requiredLimits: Record<string, number> = {};
  const al = adapter.limits as unknown as Record<string, number>;
  for (const key of [
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX',
    'maxComputeWorkgroupSizeY',
    'maxComputeWorkgroupSizeZ',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBuffersPerShaderStage',
  ]) {
    if (typeof al[key] === 'number') requiredLimits[key] = al[key]!;
  }
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  device.addEventListener('uncapturederror', (ev: Event) => {
    const e = (ev as GPUUncapturedErrorEvent).error;
    asyncErrors.push(`WebGPU error (last kernel encoded: ${currentKernel}): ${e.message}`);
  });
  const limits: Record<string, number> = {};
  const dl = device.limits as unknown as Record<string, number>;
  for (const k in dl) if (typeof dl[k] === 'number') limits[k] = dl[k]!;
  const desc = describe(adapter.info, backendHint);
  const isSoftware = /llvmpipe|lavapipe|swiftshader|software/i.test(desc);
  // On a CPU adapter the binding's spinning poll takes a core from the adapter (engine/dawn-poll.ts).
  const poll = engineSwitch('CSRM_DAWN_POLL');
  if (poll !== undefined && poll !== 'spin' && poll !== 'sleep') throw new Error(`CSRM_DAWN_POLL="${poll}": expected "spin" or "sleep"`);
  if (poll === 'sleep' || (poll === undefined && isSoftware)) installPollSleep();
  const info: DeviceInfo = {
    adapter: desc,
    backend: backendHint,
    features: [...device.features],
    limits,
    isSoftware,
    subgroupSize: device.features.has('subgroups') ? await probeSubgroupSize(device) : null,
    subgroupMatrix: device.features.has(SUBGROUP_MATRIX_FEATURE) ? await probeSubgroupMatrix(device, adapter.info) : null,
  };
  current = { device, queue: device.queue, info, has: (f) => device.features.has(f) };
  return current;
}

/**
 * Runs one workgroup of 64 invocations that records subgroup_size and subgroup_invocation_id; returns
 * the size when it is the same everywhere and lanes follow local_invocation_index (lane = index mod
 * size), else null.
 */
async function probeSubgroupSize(device: GPUDevice): Promise<number | null> {
  const n = 64;
  const code = `enable subgroups;
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(${n})
fn main(@builtin(local_invocation_index) li: u32, @builtin(subgroup_size) sz: u32, @builtin(subgroup_invocation_id) sid: u32) {
  out[2u * li] = sz;
  out[2u * li + 1u] = sid;
}`;
  const buf = device.createBuffer({ size: 8 * n, usage: 0x0080 | 0x0004 /* STORAGE|COPY_SRC */ });
  try {
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
    const v = new Uint32Array(await runOneWorkgroup(device, pipeline, [buf], buf, 8 * n));
    const size = v[0]!;
    if (size === 0) return null;
    for (let i = 0; i < n; i++) if (v[2 * i] !== size || v[2 * i + 1] !== i % size) return null;
    return size;
  } catch {
    return null;
  } finally {
    buf.destroy();
  }
}

/** Destroys the device and drops the instance so that `node` can exit. */
export async function shutdownGpu(): Promise<void> {
  if (!current) return;
  const g = current;
  current = null;
  await g.queue.onSubmittedWorkDone().catch(() => undefined);
  g.device.destroy();
  instance = null;
  uninstallPollSleep();
}
