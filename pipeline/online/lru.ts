// The online query-embedding cache of section 3.5 ("directly fetched from online cache"): a Map
// keeps insertion order, so re-inserting on a hit makes the first key the least recently used.
// It is bounded twice: by entries and, when a size function is given, by bytes, so long queries
// cannot grow it past its budget however many fit under the entry count.
export class LruCache<K, V> {
  private readonly map = new Map<K, { value: V; bytes: number }>();
  hits = 0;
  misses = 0;
  /** Sum of sizeOf over the entries held (0 without a size function). */
  bytes = 0;

  constructor(
    readonly capacity: number,
    readonly maxBytes = Infinity,
    private readonly sizeOf: (key: K, value: V) => number = () => 0,
  ) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new Error(`LRU capacity must be a non-negative integer, got ${capacity}`);
    if (!(maxBytes >= 0)) throw new Error(`LRU byte budget must be ≥ 0, got ${maxBytes}`);
  }

  get size(): number {
    return this.map.size;
  }

  /** Counts a hit or a miss; a hit becomes the most recently used entry. */
  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  set(key: K, value: V): void {
    if (this.capacity === 0) return;
    const bytes = this.sizeOf(key, value);
    if (bytes > this.maxBytes) return; // would evict everything and still not fit
    this.delete(key);
    this.map.set(key, { value, bytes });
    this.bytes += bytes;
    while (this.map.size > this.capacity || this.bytes > this.maxBytes) this.delete(this.map.keys().next().value as K);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  hitRate(): number {
    const n = this.hits + this.misses;
    return n === 0 ? 0 : this.hits / n;
  }

  private delete(key: K): void {
    const e = this.map.get(key);
    if (e === undefined) return;
    this.bytes -= e.bytes;
    this.map.delete(key);
  }
}
