// Size-class pool of GPU storage buffers, and the live-bytes counter tests use to prove no leaks.
// Classes are 2^k·{1, 1.25, 1.5, 1.75} bytes (≥ 256), so waste stays under 25% and reuse is high.
import { gpuSync } from './device.ts';
import { clearBindGroups } from './bind-groups.ts';

export interface PooledBuffer {
  buffer: GPUBuffer;
  bytes: number; // class size (what the buffer really holds)
  refs: number; // tensors viewing this storage (reshape shares it); released at zero
}

// Each class's free buffers, highest id first: allocation takes the lowest id (the oldest buffer), so
// which buffer a tensor gets depends on the set of free buffers, not on the order they were freed in.
// A training step starts from the same free set every step, so its tensors get the same buffers every
// step and its launches find their bind groups cached (engine/bind-groups.ts). A stack (last freed,
// first reused) permuted the buffers from step to step: the demo's SFT step made 57–59 of its 189
// bind groups anew every step (bench/profile-step.ts tiny --task mixed, steps 2–7).
const free = new Map<number, GPUBuffer[]>();
const ids = new WeakMap<GPUBuffer, number>();
let nextId = 1;
let live = 0;
let peak = 0;
let reserved = 0;

export const STORAGE_USAGE = GPUBufferUsageFlags();
function GPUBufferUsageFlags(): number {
  // GPUBufferUsage may not exist before the device module installs the globals; use raw bits.
  return 0x0080 /* STORAGE */ | 0x0004 /* COPY_SRC */ | 0x0008 /* COPY_DST */;
}

export function sizeClass(bytes: number): number {
  const b = Math.max(256, bytes);
  const k = Math.floor(Math.log2(b));
  const base = 2 ** k;
  for (const m of [1, 1.25, 1.5, 1.75, 2]) {
    const c = base * m;
    if (c >= b) return c;
  }
  return base * 2;
}

export function allocBuffer(bytes: number): PooledBuffer {
  const cls = sizeClass(bytes);
  const list = free.get(cls);
  let buffer = list?.pop();
  if (!buffer) {
    const { device, info } = gpuSync();
    const max = info.limits.maxBufferSize ?? Infinity;
    if (cls > max) throw new Error(`allocBuffer: ${cls} bytes exceeds the device's maxBufferSize ${max}`);
    buffer = device.createBuffer({ size: cls, usage: STORAGE_USAGE });
    ids.set(buffer, nextId++);
    reserved += cls;
  }
  live += cls;
  if (live > peak) peak = live;
  return { buffer, bytes: cls, refs: 1 };
}

export function releaseBuffer(b: PooledBuffer): void {
  if (--b.refs > 0) return;
  live -= b.bytes;
  let list = free.get(b.bytes);
  if (!list) free.set(b.bytes, (list = []));
  // insert keeping ids descending, so pop() gives the lowest
  const id = ids.get(b.buffer)!;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ids.get(list[mid]!)! > id) lo = mid + 1;
    else hi = mid;
  }
  if (lo === list.length) list.push(b.buffer);
  else list.splice(lo, 0, b.buffer);
}

/** Bytes held by live tensors on the GPU. */
export function liveBytes(): number {
  return live;
}
/** Highest liveBytes() since the last resetPeak(). */
export function peakBytes(): number {
  return peak;
}
export function resetPeak(): void {
  peak = live;
}
/** Bytes the pool holds from the device, free or not. */
export function reservedBytes(): number {
  return reserved;
}
/** Gives every free pooled buffer back to the device. */
export function trimPool(): void {
  clearBindGroups(); // the cached bind groups name the buffers about to be destroyed
  for (const list of free.values()) for (const b of list) {
    reserved -= b.size;
    b.destroy();
  }
  free.clear();
}
export function resetPoolAfterDeviceLoss(): void {
  free.clear();
  live = 0;
  peak = 0;
  reserved = 0;
}
