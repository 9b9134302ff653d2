// Bind groups by (layout, buffers): a training step launches the same kernels on the same pooled
// buffers every step, and making a bind group costs more of the host's time per launch than encoding
// the dispatch (scratch measurement on lavapipe: 16–80 µs per createBindGroup against 2–9 µs for
// setPipeline + setBindGroup + dispatchWorkgroups). The uniform slot is a dynamic offset, so it is not
// part of the key. Entries name buffers by identity; a destroyed buffer's entries are never hit again
// (a new buffer is a new key), and the cache is emptied when the pool gives buffers back and when it
// grows past MAX_ENTRIES, so it holds no destroyed buffer for long.
const MAX_ENTRIES = 8192;

let ids = new WeakMap<object, number>();
let nextId = 1;
const cache = new Map<string, GPUBindGroup>();
let hits = 0;
let misses = 0;

function idOf(x: object): number {
  let id = ids.get(x);
  if (id === undefined) ids.set(x, (id = nextId++));
  return id;
}

/**
 * The bind group of `layout` with `uniform` (bound at offset 0, `uniformSize` bytes; the slot is set
 * with a dynamic offset) followed by `buffers`, each whole.
 */
export function bindGroupFor(device: GPUDevice, layout: GPUBindGroupLayout, uniform: GPUBuffer | null, uniformSize: number, buffers: readonly GPUBuffer[]): GPUBindGroup {
  let key = `${idOf(layout)}|${uniform ? idOf(uniform) : 0}`;
  for (const b of buffers) key += `,${idOf(b)}`;
  const hit = cache.get(key);
  if (hit) {
    hits++;
    return hit;
  }
  misses++;
  const entries: GPUBindGroupEntry[] = [];
  let i = 0;
  if (uniform) entries.push({ binding: i++, resource: { buffer: uniform, offset: 0, size: uniformSize } });
  for (const b of buffers) entries.push({ binding: i++, resource: { buffer: b } });
  const bg = device.createBindGroup({ layout, entries });
  if (cache.size >= MAX_ENTRIES) cache.clear();
  cache.set(key, bg);
  return bg;
}

/** Forgets every bind group (buffers were destroyed, or the device changed). */
export function clearBindGroups(): void {
  cache.clear();
  ids = new WeakMap();
}

/** Cache hits and misses since the start (tests, profiling). */
export function bindGroupStats(): { hits: number; misses: number; size: number } {
  return { hits, misses, size: cache.size };
}
