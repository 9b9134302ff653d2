// Execution: kernels are encoded into one shared command encoder (one open compute pass) and
// submitted in batches; readback is the only point where the CPU waits for the GPU.
// Debug switches (switches.ts): CSRM_TIME_KERNELS=1 times every kernel with timestamp queries (=kernel:
// summed per op, kernel name and grid instead of per op);
// CSRM_CHECK_NAN=1 checks every kernel output for NaN/Inf and names the first op that made one.
import { gpuSync, setCurrentKernel, takeAsyncError, type Gpu } from './device.ts';
import { bytesOf, Tensor, type CpuData } from './tensor.ts';
import { unpackF16 } from './half.ts';

import { kernel, type Kernel } from '../kernels/kernel.ts';
import { engineSwitch } from './switches.ts';
import { bindGroupFor, clearBindGroups } from './bind-groups.ts';
export type { Kernel } from '../kernels/kernel.ts';

/** A uniform value: a plain number is a u32 (i32 if negative); {f} is an f32. */
export type Param = number | { f: number };

const pipelines = new Map<string, Map<string, Compiled>>();
const UNIFORM_SLOT = 256;
const UNIFORM_SLOTS = 512;
const MAX_BATCH = 400;

let encoder: GPUCommandEncoder | null = null;
let pass: GPUComputePassEncoder | null = null;
let dispatches = 0;
let uniformBuf: GPUBuffer | null = null;
const uniformCpu = new ArrayBuffer(UNIFORM_SLOT * UNIFORM_SLOTS);
// views over the whole staging buffer, made once per buffer (three views per launch cost more than the writes)
const uniformU32 = new Uint32Array(uniformCpu);
const uniformF32 = new Float32Array(uniformCpu);
const uniformI32 = new Int32Array(uniformCpu);
let uniformUsed = 0;
const uniformFree: GPUBuffer[] = [];
const uniformInFlight: GPUBuffer[] = [];
let totalDispatches = 0;

const timing = ['1', 'kernel'].includes(engineSwitch('CSRM_TIME_KERNELS') ?? '');
const timingByKernel = engineSwitch('CSRM_TIME_KERNELS') === 'kernel';
const nanCheck = engineSwitch('CSRM_CHECK_NAN') === '1';

export function dispatchCount(): number {
  return totalDispatches;
}

interface Compiled {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

// Pipelines by kernel object (ops keep their kernels), then by name and WGSL (a kernel built anew
// with the same source): hashing a few kB of WGSL on every launch costs more than the dispatch.
let byKernel = new WeakMap<Kernel, Compiled>();
let cachedFor: GPUDevice | null = null;

/** Pipelines and layouts belong to one device: a new device starts with none. */
function cachesFor(g: Gpu): void {
  if (cachedFor === g.device) return;
  pipelines.clear();
  byKernel = new WeakMap();
  clearBindGroups();
  cachedFor = g.device;
}

function compile(g: Gpu, k: Kernel): Compiled {
  cachesFor(g);
  const known = byKernel.get(k);
  if (known) return known;
  let named = pipelines.get(k.name);
  if (!named) pipelines.set(k.name, (named = new Map()));
  let c = named.get(k.code);
  if (c) {
    byKernel.set(k, c);
    return c;
  }
  const entries: GPUBindGroupLayoutEntry[] = [];
  let b = 0;
  if (k.params) entries.push({ binding: b++, visibility: 4 /* COMPUTE */, buffer: { type: 'uniform' } });
  for (const a of k.bindings) {
    entries.push({ binding: b++, visibility: 4, buffer: { type: a === 'r' ? 'read-only-storage' : 'storage' } });
  }
  setCurrentKernel(k.name);
  const layout = g.device.createBindGroupLayout({ label: k.name, entries });
  const module = g.device.createShaderModule({ label: k.name, code: k.code });
  const pipeline = g.device.createComputePipeline({
    label: k.name,
    layout: g.device.createPipelineLayout({ label: k.name, bindGroupLayouts: [layout] }),
    compute: { module, entryPoint: 'main' },
  });
  c = { pipeline, layout };
  named.set(k.code, c);
  byKernel.set(k, c);
  return c;
}

/** Compiles a kernel now and throws with the WGSL line and the kernel's name if it does not compile. */
export async function precompile(k: Kernel): Promise<void> {
  const g = gpuSync();
  const module = g.device.createShaderModule({ label: k.name, code: k.code });
  const info = await module.getCompilationInfo();
  const errs = info.messages.filter((m) => m.type === 'error');
  if (errs.length > 0) {
    const lines = k.code.split('\n');
    const msg = errs
      .map((m) => `  line ${m.lineNum}:${m.linePos}: ${m.message}\n    | ${lines[m.lineNum - 1] ?? ''}`)
      .join('\n');
    throw new Error(`kernel "${k.name}" failed to compile:\n${msg}`);
  }
  compile(g, k);
  await sync();
}

function ensureEncoder(g: Gpu): GPUCommandEncoder {
  if (!encoder) encoder = g.device.createCommandEncoder();
  return encoder;
}

function ensurePass(g: Gpu): GPUComputePassEncoder {
  if (!pass) pass = ensureEncoder(g).beginComputePass(span.passDescriptor(g));
  return pass;
}

function endPass(): void {
  if (pass) {
    pass.end();
    pass = null;
  }
}

function claimUniform(g: Gpu, params: Param[]): { buffer: GPUBuffer; offset: number } {
  if (uniformUsed >= UNIFORM_SLOTS) flush();
  if (!uniformBuf) {
    uniformBuf =
      uniformFree.pop() ?? g.device.createBuffer({ size: UNIFORM_SLOT * UNIFORM_SLOTS, usage: 0x0040 | 0x0008 /* UNIFORM|COPY_DST */ });
  }
  const offset = uniformUsed * UNIFORM_SLOT;
  if (params.length * 4 > UNIFORM_SLOT) throw new Error(`too many uniform params (${params.length})`);
  const w = offset / 4;
  for (let j = 0; j < params.length; j++) {
    const p = params[j]!;
    if (typeof p === 'number') {
      if (!Number.isInteger(p)) throw new Error(`uniform param ${j} = ${p} is not an integer; wrap floats as {f: x}`);
      if (p < 0) uniformI32[w + j] = p;
      else uniformU32[w + j] = p;
    } else uniformF32[w + j] = p.f;
  }
  uniformU32.fill(0, w + params.length, w + UNIFORM_SLOT / 4); // the words past the params read 0, as in a fresh slot
  uniformUsed++;
  return { buffer: uniformBuf, offset };
}

export type Binding = Tensor | GPUBuffer;

function bufferOf(op: string, b: Binding): GPUBuffer {
  if (b instanceof Tensor) {
    if (b.disposed) throw new Error(`${op}: use of disposed tensor ${b}`);
    if (!b.gpu) throw new Error(`${op}: ${b} is not on the GPU`);
    return b.gpu.buffer;
  }
  return b;
}

/** Workgroup grid for n workgroups, folded into 2-D when n exceeds the per-dimension limit. */
export function grid1d(n: number): [number, number, number] {
  const max = 65535;
  if (n <= max) return [Math.max(1, n), 1, 1];
  const y = Math.ceil(n / max);
  return [Math.ceil(n / y), y, 1];
}

export interface LaunchRecord {
  kernel: Kernel;
  buffers: GPUBuffer[];
  grid: [number, number, number];
  params: Param[];
  op: string;
}
let launchHook: ((r: LaunchRecord) => void) | null = null;
/** Calls `hook` with every dispatch encoded from now on (profilers replay them one by one); null stops. */
export function onLaunch(hook: ((r: LaunchRecord) => void) | null): void {
  launchHook = hook;
}

/** Encodes one dispatch. `op` names the engine op for error and NaN reports. */
export function launch(k: Kernel, bindings: Binding[], grid: [number, number, number], params: Param[] = [], op = k.name): void {
  const g = gpuSync();
  if (launchHook) launchHook({ kernel: k, buffers: bindings.map((b) => bufferOf(op, b)), grid, params: [...params], op });
  if (bindings.length !== k.bindings.length) {
    throw new Error(`${op}: kernel ${k.name} takes ${k.bindings.length} bindings, got ${bindings.length}`);
  }
  if (!k.f16) {
    // a 32-bit kernel would read two f16 values as one f32 word: a wrong result, never an error
    for (const x of bindings) {
      if (x instanceof Tensor && x.dtype === 'f16') throw new Error(`${op}: no f16 kernel for this op (kernel ${k.name} got ${x}); cast with toF32 first`);
    }
  }
  const c = compile(g, k);
  setCurrentKernel(k.name);
  const u = k.params ? claimUniform(g, params) : null;
  const bind = bindGroupFor(g.device, c.layout, u ? { ...u, size: UNIFORM_SLOT } : null, bindings.map((x) => bufferOf(op, x)));
  if (timing && g.has('timestamp-query')) {
    endPass();
    const slot = timer.claim(g, timingByKernel ? `${op} ${k.name} ${grid.join('x')}` : op);
    pass = ensureEncoder(g).beginComputePass({
      timestampWrites: { querySet: timer.set!, beginningOfPassWriteIndex: slot * 2, endOfPassWriteIndex: slot * 2 + 1 },
    });
    pass.setPipeline(c.pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    endPass();
  } else {
    const p = ensurePass(g);
    p.setPipeline(c.pipeline);
    p.setBindGroup(0, bind);
    p.dispatchWorkgroups(grid[0], grid[1], grid[2]);
  }
  dispatches++;
  totalDispatches++;
  if (nanCheck) nanWatch.check(op, k, bindings);
  if (dispatches >= MAX_BATCH) flush();
}

/** Submits the encoded work without waiting for it. */
export function flush(): void {
  if (!encoder) return;
  const g = gpuSync();
  endPass();
  if (uniformBuf && uniformUsed > 0) {
    g.queue.writeBuffer(uniformBuf, 0, uniformCpu, 0, uniformUsed * UNIFORM_SLOT);
  }
  if (timing) timer.resolve(encoder);
  span.resolve(g, encoder);
  g.queue.submit([encoder.finish()]);
  encoder = null;
  dispatches = 0;
  if (uniformBuf) {
    // Reusable by the next batch: queue order puts its writeBuffer after this submit's execution.
    uniformInFlight.push(uniformBuf);
    uniformBuf = null;
  }
  uniformFree.push(...uniformInFlight.splice(0));
  // the staging words are reused: writeBuffer copied them, and claimUniform rewrites every word of a slot
  uniformUsed = 0;
}

/** Waits for all submitted work; throws any asynchronous GPU error and any NaN found in debug mode. */
export async function sync(): Promise<void> {
  flush();
  const g = gpuSync();
  await g.queue.onSubmittedWorkDone();
  await raisePending();
}

async function raisePending(): Promise<void> {
  const e = takeAsyncError();
  if (e) throw e;
  if (nanCheck) await nanWatch.raise();
  if (timing) await timer.collect();
}

/** Copies host data into a tensor's buffer. Pending work is submitted first: writeBuffer runs ahead of it. */
export function upload(t: Tensor, data: ArrayBufferView, byteOffset = 0): void {
  const g = gpuSync();
  if (!t.gpu) throw new Error(`upload: ${t} is not on the GPU`);
  flush();
  g.queue.writeBuffer(t.gpu.buffer, byteOffset, data.buffer, data.byteOffset, data.byteLength);
}

/** Reads `bytes` from a GPU buffer back to the host. The one place the CPU waits for the GPU. */
export async function readBuffer(src: GPUBuffer, bytes: number, srcOffset = 0): Promise<ArrayBuffer> {
  const g = gpuSync();
  const size = Math.max(4, Math.ceil(bytes / 4) * 4);
  const staging = g.device.createBuffer({ size, usage: 0x0001 | 0x0008 /* MAP_READ|COPY_DST */ });
  endPass();
  ensureEncoder(g).copyBufferToBuffer(src, srcOffset, staging, 0, size);
  flush();
  try {
    await staging.mapAsync(1 /* READ */);
  } catch (e) {
    const pendingErr = takeAsyncError();
    throw pendingErr ?? e;
  }
  const out = staging.getMappedRange().slice(0, bytes);
  staging.unmap();
  staging.destroy();
  await raisePending();
  return out;
}

/** Reads a tensor to the host: Float32Array/Int32Array/Uint32Array from the GPU (f16 widened to a
 * Float32Array, exactly), its float64 data from the CPU. */
export async function read(t: Tensor): Promise<Float32Array | Int32Array | Uint32Array | Float64Array> {
  if (t.disposed) throw new Error(`read: use of disposed tensor ${t}`);
  if (t.backend === 'cpu') return (t.cpu as CpuData).slice() as Float64Array | Int32Array | Uint32Array;
  const buf = await readBuffer(t.gpu!.buffer, bytesOf(t.dtype, t.size));
  if (t.dtype === 'f16') return unpackF16(new Uint16Array(buf), t.size);
  return t.dtype === 'f32' ? new Float32Array(buf) : t.dtype === 'i32' ? new Int32Array(buf) : new Uint32Array(buf);
}

/** Reads a tensor as a plain number array (convenient in tests and metrics). */
export async function toArray(t: Tensor): Promise<number[]> {
  return Array.from(await read(t));
}

/** Reads a one-element tensor as a number. */
export async function item(t: Tensor): Promise<number> {
  if (t.size !== 1) throw new Error(`item: ${t} has ${t.size} elements, expected 1`);
  return (await read(t))[0]!;
}

// ---- CSRM_TIME_KERNELS: per-kernel GPU time from timestamp queries ----------------------------
const timer = {
  set: null as GPUQuerySet | null,
  cap: 2048, // two queries per kernel; WebGPU caps a query set at 4096 queries
  names: [] as string[],
  pendingResolve: [] as { buf: GPUBuffer; names: string[] }[],
  stats: new Map<string, { n: number; ns: number }>(),
  claim(g: Gpu, op: string): number {
    if (!this.set) this.set = g.device.createQuerySet({ type: 'timestamp', count: this.cap * 2 });
    if (this.names.length >= this.cap) flush();
    this.names.push(op);
    return this.names.length - 1;
  },
  resolve(enc: GPUCommandEncoder): void {
    if (!this.set || this.names.length === 0) return;
    const g = gpuSync();
    const n = this.names.length * 2;
    const res = g.device.createBuffer({ size: n * 8, usage: 0x0200 | 0x0004 /* QUERY_RESOLVE|COPY_SRC */ });
    const rd = g.device.createBuffer({ size: n * 8, usage: 0x0001 | 0x0008 });
    enc.resolveQuerySet(this.set, 0, n, res, 0);
    enc.copyBufferToBuffer(res, 0, rd, 0, n * 8);
    this.pendingResolve.push({ buf: rd, names: this.names });
    this.names = [];
  },
  async collect(): Promise<void> {
    for (const { buf, names } of this.pendingResolve.splice(0)) {
      await buf.mapAsync(1);
      const t = new BigInt64Array(buf.getMappedRange());
      names.forEach((name, i) => {
        const s = this.stats.get(name) ?? { n: 0, ns: 0 };
        s.n++;
        s.ns += Number(t[2 * i + 1]! - t[2 * i]!);
        this.stats.set(name, s);
      });
      buf.unmap();
      buf.destroy();
    }
  },
};

/** Forgets the per-op GPU times collected so far (a profile that leaves out its warm-up); waits for the pending ones first. */
export async function resetKernelTimes(): Promise<void> {
  await timer.collect();
  timer.stats.clear();
}

/** Per-op GPU time collected under CSRM_TIME_KERNELS=1, slowest first. */
export function kernelTimes(): { op: string; calls: number; totalMs: number; meanUs: number }[] {
  return [...timer.stats.entries()]
    .map(([op, s]) => ({ op, calls: s.n, totalMs: s.ns / 1e6, meanUs: s.ns / 1e3 / s.n }))
    .sort((a, b) => b.totalMs - a.totalMs);
}

// ---- GPU time of a span of work (benchmarks): one timestamp pair around every compute pass -------
// Passes are long (up to MAX_BATCH dispatches), so this costs a few queries per repetition and does
// not split the work the way CSRM_TIME_KERNELS does. The sum of pass times is the device's busy
// time: host gaps between submissions are not in it.
const span = {
  active: false,
  set: null as GPUQuerySet | null,
  cap: 64, // timed passes per submission; passes beyond it run untimed and void the span
  used: 0,
  overflow: false,
  pending: [] as { buf: GPUBuffer; res: GPUBuffer; pairs: number }[],
  passDescriptor(g: Gpu): GPUComputePassDescriptor | undefined {
    if (!this.active) return undefined;
    if (this.used >= this.cap) {
      this.overflow = true;
      return undefined;
    }
    if (!this.set) this.set = g.device.createQuerySet({ type: 'timestamp', count: this.cap * 2 });
    const i = this.used++;
    return { timestampWrites: { querySet: this.set, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } };
  },
  resolve(g: Gpu, enc: GPUCommandEncoder): void {
    if (!this.set || this.used === 0) return;
    const n = this.used * 2;
    const res = g.device.createBuffer({ size: n * 8, usage: 0x0200 | 0x0004 /* QUERY_RESOLVE|COPY_SRC */ });
    const rd = g.device.createBuffer({ size: n * 8, usage: 0x0001 | 0x0008 /* MAP_READ|COPY_DST */ });
    enc.resolveQuerySet(this.set, 0, n, res, 0);
    enc.copyBufferToBuffer(res, 0, rd, 0, n * 8);
    this.pending.push({ buf: rd, res, pairs: this.used });
    this.used = 0; // the next submission may reuse the slots: it runs after this resolve
  },
};

/** Whether GPU spans can be timed here (the adapter has timestamp-query; CSRM_TIME_KERNELS owns the queries when set). */
export function gpuSpanSupported(): boolean {
  return gpuSync().has('timestamp-query') && !timing;
}

/** Starts timing the device work encoded from now on (earlier work is submitted first, untimed). */
export function beginGpuSpan(): boolean {
  if (!gpuSpanSupported()) return false;
  flush();
  endPass();
  span.active = true;
  span.used = 0;
  span.overflow = false;
  return true;
}

/** Waits for the span's work and returns its device time in ms (sum over its compute passes), or null when it could not be timed. */
export async function endGpuSpan(): Promise<number | null> {
  if (!span.active) return null;
  try {
    await sync();
  } finally {
    span.active = false;
  }
  let ns = 0;
  for (const { buf, res, pairs } of span.pending.splice(0)) {
    await buf.mapAsync(1 /* READ */);
    const t = new BigInt64Array(buf.getMappedRange());
    for (let i = 0; i < pairs; i++) ns += Number(t[2 * i + 1]! - t[2 * i]!);
    buf.unmap();
    buf.destroy();
    res.destroy();
  }
  return span.overflow ? null : ns / 1e6;
}

// ---- CSRM_CHECK_NAN: a GPU-side watch that records the first op whose output is not finite ------
const nanWatch = {
  flag: null as GPUBuffer | null,
  ops: [] as string[],
  kernel: kernel(
    'debug_nan_check',
    /* wgsl */ `
struct P { n: u32, op: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read_write> flag: array<atomic<u32>>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * 256u;
  if (i >= p.n) { return; }
  // exponent bits all ones = Inf or NaN
  if ((x[i] & 0x7f800000u) == 0x7f800000u) { atomicMin(&flag[0], p.op); }
}`,
    ['r', 'rw'],
  ),
  check(op: string, k: Kernel, bindings: Binding[]): void {
    const g = gpuSync();
    if (!this.flag) {
      this.flag = g.device.createBuffer({ size: 16, usage: 0x0080 | 0x0004 | 0x0008 });
      g.queue.writeBuffer(this.flag, 0, new Uint32Array([0xffffffff, 0, 0, 0]));
    }
    bindings.forEach((b, j) => {
      if (k.bindings[j] !== 'rw' || !(b instanceof Tensor) || b.dtype !== 'f32' || b.size === 0) return;
      this.ops.push(`${op} (output ${j}, ${b})`);
      const c = compile(g, this.kernel);
      const u = claimUniform(g, [b.size, this.ops.length - 1]);
      const bind = bindGroupFor(g.device, c.layout, { ...u, size: UNIFORM_SLOT }, [b.gpu!.buffer, this.flag!]);
      const p = ensurePass(g);
      p.setPipeline(c.pipeline);
      p.setBindGroup(0, bind);
      const [x, y, z] = grid1d(Math.ceil(b.size / 256));
      p.dispatchWorkgroups(x, y, z);
    });
  },
  async raise(): Promise<void> {
    if (!this.flag) return;
    const g = gpuSync();
    const st = g.device.createBuffer({ size: 16, usage: 0x0001 | 0x0008 });
    const enc = g.device.createCommandEncoder();
    enc.copyBufferToBuffer(this.flag, 0, st, 0, 16);
    g.queue.submit([enc.finish()]);
    await st.mapAsync(1);
    const v = new Uint32Array(st.getMappedRange())[0]!;
    st.unmap();
    st.destroy();
    if (v !== 0xffffffff) {
      const name = this.ops[v] ?? `op #${v}`;
      g.queue.writeBuffer(this.flag, 0, new Uint32Array([0xffffffff]));
      this.ops = [];
      throw new Error(`CSRM_CHECK_NAN: first non-finite value produced by ${name}`);
    }
    this.ops = [];
  },
};
