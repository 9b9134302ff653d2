// Explicit GPU-memory lifetimes. `scope(fn)` frees every tensor created inside fn except what fn
// returns (and tensors marked kept). Scopes nest as a stack; they are not for concurrently running
// async tasks. Garbage collection is never relied upon to free GPU memory.
import type { Tensor } from './tensor.ts';

const stack: Set<Tensor>[] = [];

export function trackTensor(t: Tensor): void {
  const top = stack[stack.length - 1];
  if (top) top.add(t);
}

function collect(v: unknown, out: Set<Tensor>, seen = new Set<unknown>()): void {
  if (v === null || typeof v !== 'object' || seen.has(v)) return;
  seen.add(v);
  if ((v as Tensor).shape !== undefined && typeof (v as Tensor).dispose === 'function' && 'backend' in (v as object)) {
    out.add(v as Tensor);
    return;
  }
  if (Array.isArray(v)) for (const x of v) collect(x, out, seen);
  else if (v instanceof Map) for (const x of v.values()) collect(x, out, seen);
  else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) collect(x, out, seen);
}

function exit(mine: Set<Tensor>, result: unknown): void {
  const keep = new Set<Tensor>();
  collect(result, keep);
  stack.pop();
  const parent = stack[stack.length - 1];
  for (const t of mine) {
    if (keep.has(t) || t.kept) {
      if (parent && !t.kept) parent.add(t);
    } else {
      t.dispose();
    }
  }
}

export function scope<T>(fn: () => T): T {
  const mine = new Set<Tensor>();
  stack.push(mine);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    exit(mine, undefined);
    throw e;
  }
  if (result instanceof Promise) {
    throw new Error('scope(): fn returned a Promise; use scopeAsync() for async code');
  }
  exit(mine, result);
  return result;
}

export async function scopeAsync<T>(fn: () => Promise<T>): Promise<T> {
  const mine = new Set<Tensor>();
  stack.push(mine);
  let result: T;
  try {
    result = await fn();
  } catch (e) {
    exit(mine, undefined);
    throw e;
  }
  exit(mine, result);
  return result;
}

/** Marks tensors as owned by the caller: no scope will free them. Returns its argument. */
export function keep<T extends Tensor | Tensor[]>(t: T): T {
  for (const x of Array.isArray(t) ? t : [t]) x.kept = true;
  return t;
}

/** Hands a tensor back to scope management (e.g. a gradient that is no longer wanted). */
export function unkeep(t: Tensor): void {
  t.kept = false;
  trackTensor(t);
}
