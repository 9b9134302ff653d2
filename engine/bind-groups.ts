// Bind groups by (layout, uniform slot, buffers): a training step launches the same kernels on the same
// pooled buffers every step, in the same order, so the same uniform slots (the staging buffer that
// returns after each submit, slot = position in the batch), and making a bind group costs more host
// time per launch than encoding the dispatch. The slot is part of the key rather than a dynamic offset:
// on lavapipe, dynamic offsets more than doubled the adapter's time per dispatch (bench/launch.ts,
// three interleaved runs: 54–71 ms → 136–184 ms of adapter CPU per 2,000 launches). Entries name
// buffers by identity; a destroyed buffer's entries are never hit again (a new buffer is a new key), and
// the cache is emptied when the pool gives buffers back and when it grows past MAX_ENTRIES, so it holds
// no destroyed buffer for long.
const MAX_ENTRIES = 8192;
const REUSE = false;

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

/** The bind group of `layout` with `uniform`'s slot at `offset` (`size` bytes), then `buffers`, each whole. */
export function bindGroupFor(
  device: GPUDevice,
  layout: GPUBindGroupLayout,
  uniform: { buffer: GPUBuffer; offset: number; size: number } | null,
  buffers: readonly GPUBuffer[],
): GPUBindGroup {
  let key = uniform ? `${idOf(layout)}|${idOf(uniform.buffer)}@${uniform.offset}` : `${idOf(layout)}|`;
  for (const b of buffers) key += `,${idOf(b)}`;
  // reuse is off: with it the CI's learns test (vitest, poison mode) crashed its worker twice (2026-12-04); a
  // standalone Stage 1 + 2 ran fine and bit for bit. Until that is found, every launch makes its bind group.
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
