// Node 20 has no `navigator`: peers that look for `navigator.gpu` get the engine's own Dawn `GPU`
// object, wrapped so that requestAdapter() returns the adapter the engine chose (CSRM_ADAPTER),
// whatever power preference the peer asks for. Same instance, same adapter, separate devices.
import { getGpu, gpuInstance } from '../../engine/device.ts';

let done = false;

export async function shareNavigatorGpu(): Promise<void> {
  if (done) return;
  const g = await getGpu();
  const gpu = gpuInstance();
  if (!gpu) throw new Error('engine GPU instance missing after getGpu()');
  const ours = g.info.adapter.toLowerCase();
  const matches = (a: GPUAdapter | null) =>
    !!a && [a.info.vendor, a.info.architecture, a.info.device, a.info.description].filter((s) => s).every((s) => ours.includes(s.toLowerCase()));
  const shared = {
    async requestAdapter(opts?: GPURequestAdapterOptions): Promise<GPUAdapter | null> {
      for (const o of [opts, { powerPreference: 'high-performance' }, { powerPreference: 'low-power' }, { forceFallbackAdapter: true }] as GPURequestAdapterOptions[]) {
        const a = await gpu.requestAdapter(o).catch(() => null);
        if (matches(a)) return a;
      }
      return null;
    },
    getPreferredCanvasFormat: () => 'rgba8unorm' as GPUTextureFormat,
    wgslLanguageFeatures: gpu.wgslLanguageFeatures,
  };
  const nav = { gpu: shared, userAgent: `Node.js ${process.version}`, hardwareConcurrency: (await import('node:os')).cpus().length };
  Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true });
  done = true;
}
