// Bind groups by (layout, uniform slot, buffers): a training step launches the same kernels on the same
// pooled buffers every step, in the same order, so the same uniform slots (the staging buffer that
// returns after each submit, slot = position in the batch), and making a bind group costs more host
// time per launch than encoding the dispatch (bench/launch.ts: 33–38 → 8–12 µs per launch). The slot is
// part of the key rather than a dynamic offset: on lavapipe, dynamic offsets more than doubled the
// adapter's time per dispatch (three interleaved runs: 54–71 ms → 136–184 ms of adapter CPU per 2,000
// launches). Entries name buffers by identity; a destroyed buffer's entries are never hit again (a new
// buffer is a new key), and the cache is emptied when the pool gives buffers back and when it grows past
// MAX_ENTRIES.
// Emptying it needs a full garbage collection right after (collectGarbage): WebGPU has no way to free a
// bind group, so each one holds its descriptor set until V8 finalizes its wrapper, and cached wrappers have
// aged into the old generation, which V8 collects only now and then. Without that, a Stage 1 + Stage 2 run
// (the learns test) piled up evicted bind groups until lavapipe crashed creating a descriptor pool for
// Dawn (SIGSEGV in memset under vkCreateDescriptorPool ← DescriptorSetAllocator::AllocateDescriptorPool ←
// createBindGroup, gdb, 2026-12-05); with a full collection after each emptying the same run ends, with
// the same F1 to the digit. Bind groups made without reuse die young and go in the frequent minor collections.
import v8 from 'node:v8';
import vm from 'node:vm';
import { engineSwitch } from './switches.ts';

const MAX_ENTRIES = 8192;
const REUSE = engineSwitch('CSRM_BIND_GROUP_REUSE') !== '0';

/** V8's full collection, exposed at run time (node's --expose-gc, set after start; `gc` in a fresh context is the global one). */
let fullGc: (() => void) | null = null;
function collectGarbage(): void {
  if (!fullGc) {
    v8.setFlagsFromString('--expose-gc');
    fullGc = vm.runInNewContext('gc') as () => void;
  }
  fullGc();
}

let ids = new WeakMap<object, number>();
let nextId = 1;
const cache = new Map<string, GPUBindGroup>();
let hits = 0;
let misses = 0;
let clears = 0;

function idOf(x: object): number {
  let id = ids.get(x);
  if (id === undefined) ids.set(x, (id = nextId++));
  return id;
}

/** The bind group of `layout` with `uniform`'s slot at `offset` (`size` bytes), then `buffers`, each whole. */
export function bindGroupFor(
  device: GPUDevice,
  layout: GPUBindGroupLayout,
  uniform: { buffer: GPUBuffer; offset: number; size: number } | null,
  buffers: readonly GPUBuffer[],
): GPUBindGroup {
  let key = uniform ? `${idOf(layout)}|${idOf(uniform.buffer)}@${uniform.offset}` : `${idOf(layout)}|`;
  for (const b of buffers) key += `,${idOf(b)}`;
  const hit = REUSE ? cache.get(key) : undefined;
  if (hit) {
    hits++;
    return hit;
  }
  misses++;
  const entries: GPUBindGroupEntry[] = [];
  let i = 0;
  if (uniform) entries.push({ binding: i++, resource: { buffer: uniform.buffer, offset: uniform.offset, size: uniform.size } });
  for (const b of buffers) entries.push({ binding: i++, resource: { buffer: b } });
  const bg = device.createBindGroup({ layout, entries });
  if (!REUSE) return bg;
  if (cache.size >= MAX_ENTRIES) clearBindGroups();
  cache.set(key, bg);
  return bg;
}

/** Forgets every bind group (buffers were destroyed, or the device changed). */
export function clearBindGroups(): void {
  if (cache.size === 0) return;
  cache.clear();
  ids = new WeakMap();
  clears++;
  collectGarbage();
}

/** Cache hits, misses and emptyings since the start (tests, profiling). */
export function bindGroupStats(): { hits: number; misses: number; size: number; clears: number } {
  return { hits, misses, size: cache.size, clears };
}
