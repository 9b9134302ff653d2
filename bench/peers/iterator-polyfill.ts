// ES2025 iterator helpers (Iterator.prototype.map/filter/…), which Node 22 has and Node 20 lacks;
// @jax-js/jax is written against them. Installed only where missing.
type It = Iterator<unknown> & Iterable<unknown>;

export function polyfillIteratorHelpers(): void {
  const proto = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as Record<string, unknown>;
  const def = (name: string, f: (this: It, ...a: never[]) => unknown) => {
    if (typeof proto[name] !== 'function') Object.defineProperty(proto, name, { value: f, writable: true, configurable: true });
  };
  function* gen<T>(src: It, body: (v: unknown, i: number) => Generator<T>): Generator<T> {
    let i = 0;
    for (const v of { [Symbol.iterator]: () => src }) yield* body(v, i++);
  }
  const each = (src: It) => ({ [Symbol.iterator]: () => src });
  def('map', function (f: (v: unknown, i: number) => unknown) {
    return gen(this, function* (v, i) { yield f(v, i); });
  });
  def('filter', function (f: (v: unknown, i: number) => boolean) {
    return gen(this, function* (v, i) { if (f(v, i)) yield v; });
  });
  def('flatMap', function (f: (v: unknown, i: number) => Iterable<unknown>) {
    return gen(this, function* (v, i) { yield* f(v, i); });
  });
  def('take', function* (this: It, n: number) {
    if (n <= 0) return;
    let k = 0;
    for (const v of each(this)) { yield v; if (++k >= n) return; }
  });
  def('drop', function* (this: It, n: number) {
    let k = 0;
    for (const v of each(this)) if (k++ >= n) yield v;
  });
  def('toArray', function (this: It) { return [...each(this)]; });
  def('forEach', function (this: It, f: (v: unknown, i: number) => void) { let i = 0; for (const v of each(this)) f(v, i++); });
  def('some', function (this: It, f: (v: unknown, i: number) => boolean) { let i = 0; for (const v of each(this)) if (f(v, i++)) return true; return false; });
  def('every', function (this: It, f: (v: unknown, i: number) => boolean) { let i = 0; for (const v of each(this)) if (!f(v, i++)) return false; return true; });
  def('find', function (this: It, f: (v: unknown, i: number) => boolean) { let i = 0; for (const v of each(this)) if (f(v, i++)) return v; return undefined; });
  def('reduce', function (this: It, f: (acc: unknown, v: unknown, i: number) => unknown, ...init: unknown[]) {
    let i = 0;
    let acc: unknown;
    let started = init.length > 0;
    if (started) acc = init[0];
    for (const v of each(this)) {
      if (!started) { acc = v; started = true; i++; continue; }
      acc = f(acc, v, i++);
    }
    if (!started) throw new TypeError('Reduce of empty iterator with no initial value');
    return acc;
  });
  const g = globalThis as Record<string, unknown>;
  if (g.Iterator === undefined) {
    // the global Iterator with .from(), enough for `Iterator.from(x).map(…)`
    g.Iterator = { prototype: proto, from: (x: Iterable<unknown> | Iterator<unknown>) => (Symbol.iterator in x ? (x as Iterable<unknown>)[Symbol.iterator]() : x) };
  }
}
