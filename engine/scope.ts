// Explicit GPU-memory lifetimes. `scope(fn)` frees every tensor created inside fn except what fn
// returns (and tensors marked kept). Scopes nest as a stack; they do not run concurrently: an
// async scope owns the stack until it ends, and a scope entered or a tensor created from any other
// async task meanwhile is an error (it would be filed under, and freed with, the wrong scope).
// Garbage collection is never relied upon to free GPU memory.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Tensor } from './tensor.ts';

interface Frame {
  tensors: Set<Tensor>;
  async: boolean;
}

const stack: Frame[] = [];
/** Tensors that survive scope exits: their owner frees them (parameters, optimizer state, gradients). */
const owned = new WeakSet<Tensor>();
/** The innermost async scope of the running async task (its fn and everything it awaits). */
const owner = new AsyncLocalStorage<Frame>();

/** Throws when the innermost scope is an async one that the running task is not inside. */
function checkOwner(what: string): void {
  const top = stack[stack.length - 1];
  if (top?.async && owner.getStore() !== top) {
    throw new Error(`${what} while an async scope of another task is running: scopes nest, they do not overlap (await one scopeAsync before starting another; no Promise.all over scopes)`);
  }
}

export function trackTensor(t: Tensor): void {
  const top = stack[stack.length - 1];
  if (!top) return;
  checkOwner(`${t} created`);
  top.tensors.add(t);
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

function enter(isAsync: boolean): Frame {
  checkOwner(isAsync ? 'scopeAsync() entered' : 'scope() entered');
  const f: Frame = { tensors: new Set(), async: isAsync };
  stack.push(f);
  return f;
}

function exit(mine: Frame, result: unknown): void {
  if (stack[stack.length - 1] !== mine) throw new Error('scope exit: another scope is innermost (scopes overlapped)');
  const keep = new Set<Tensor>();
  collect(result, keep);
  stack.pop();
  const parent = stack[stack.length - 1];
  for (const t of mine.tensors) {
    if (keep.has(t) || owned.has(t)) {
      if (parent && !owned.has(t)) parent.tensors.add(t);
    } else {
      t.dispose();
    }
  }
}

export function scope<T>(fn: () => T): T {
  const mine = enter(false);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    exit(mine, undefined);
    throw e;
  }
  if (result instanceof Promise) {
    exit(mine, undefined);
    throw new Error('scope(): fn returned a Promise; use scopeAsync() for async code');
  }
  exit(mine, result);
  return result;
}

export async function scopeAsync<T>(fn: () => Promise<T>): Promise<T> {
  const mine = enter(true);
  let result: T;
  try {
    result = await owner.run(mine, fn);
  } catch (e) {
    exit(mine, undefined);
    throw e;
  }
  exit(mine, result);
  return result;
}

const inExclusive = new AsyncLocalStorage<true>();
let queueTail: Promise<unknown> = Promise.resolve();

/**
 * The queue of GPU work for tasks that arrive concurrently (server requests): fn starts once every
 * earlier exclusive task has finished, so the scopes inside them never overlap. Inside an
 * exclusive task it runs fn at once (nesting does not wait for itself).
 */
export function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  if (inExclusive.getStore()) return fn();
  const run = queueTail.then(() => inExclusive.run(true, fn));
  queueTail = run.catch(() => undefined);
  return run;
}

/** Marks tensors as owned by the caller: no scope will free them. Returns its argument. */
export function keep<T extends Tensor | Tensor[]>(t: T): T {
  for (const x of Array.isArray(t) ? t : [t]) owned.add(x);
  return t;
}

export function isKept(t: Tensor): boolean {
  return owned.has(t);
}

/** Hands a kept tensor back to the innermost scope, which frees it on exit (e.g. a gradient no longer wanted). */
export function unkeep(t: Tensor): void {
  owned.delete(t);
  trackTensor(t);
}

/** The owner of kept tensors frees them now (nulls are skipped). */
export function release(...ts: readonly (Tensor | null | undefined)[]): void {
  for (const t of ts) {
    if (!t) continue;
    owned.delete(t);
    t.dispose();
  }
}
