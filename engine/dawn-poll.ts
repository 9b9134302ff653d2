// How the JS thread waits for Dawn. The `webgpu` binding completes promises (mapAsync,
// onSubmittedWorkDone) by polling: while any is pending it re-queues a native callback through the
// global `setImmediate`, i.e. it spins the JS thread. On a CPU adapter (lavapipe) that spin competes
// with the adapter's own worker threads for the same cores: measured on the 2-core machine, the JS
// thread burnt as much CPU as one lavapipe worker while a matmul ran (2.2 s vs 1.1 s each).
// With `pollSleep` installed, the binding's callbacks run as before for the first SPIN_MS of a wait
// (short waits keep their latency), then at most once per millisecond (a timer instead of a spin).
// Only the binding's native callbacks are affected; every other setImmediate runs untouched.

/** How long a wait may spin before it polls once per millisecond. */
const SPIN_MS = 0.5;
/** A native callback queued this soon after the previous one continues the same wait. */
const SAME_WAIT_MS = 5;

let installed: typeof setImmediate | null = null;

/**
 * The waiting rule as a function of time (ms): a call more than SAME_WAIT_MS after the previous one
 * starts a new wait; within a wait, the first SPIN_MS run at once ('spin'), later calls wait for a
 * 1 ms timer ('sleep').
 */
export function pollPolicy(): (now: number) => 'spin' | 'sleep' {
  let waitStart = 0;
  let last = -Infinity;
  return (now) => {
    if (now - last > SAME_WAIT_MS) waitStart = now;
    last = now;
    return now - waitStart < SPIN_MS ? 'spin' : 'sleep';
  };
}

function isNative(fn: unknown): boolean {
  return typeof fn === 'function' && /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn));
}

/** Installs the sleeping poll (idempotent). Returns false when it was already installed. */
export function installPollSleep(): boolean {
  if (installed) return false;
  const real = globalThis.setImmediate;
  const policy = pollPolicy();
  const patched = ((fn: (...a: unknown[]) => void, ...args: unknown[]) => {
    if (!isNative(fn) || policy(performance.now()) === 'spin') return real(fn, ...args);
    return setTimeout(fn, 1, ...args) as unknown as NodeJS.Immediate;
  }) as typeof setImmediate;
  Object.assign(patched, real); // keeps setImmediate.__promisify__ and friends
  globalThis.setImmediate = patched;
  installed = real;
  return true;
}

/** Restores the binding's spinning poll. */
export function uninstallPollSleep(): void {
  if (!installed) return;
  globalThis.setImmediate = installed;
  installed = null;
}

/** Whether the sleeping poll is installed. */
export function pollSleepInstalled(): boolean {
  return installed !== null;
}
