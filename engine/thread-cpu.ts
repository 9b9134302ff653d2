// CPU time of this process split by thread (Linux /proc): the JS thread (encoding, autograd, the
// binding's poll) versus every other thread (on lavapipe: the adapter's worker threads, which run the
// kernels). On a shared, loaded machine these are steadier than wall time. Null off Linux.
import { readdirSync, readFileSync } from 'node:fs';

export interface ThreadCpu {
  jsMs: number;
  otherMs: number;
}

function ns(tid: string): number {
  try {
    return Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return 0; // the thread exited between listing and reading
  }
}

export function threadCpu(): ThreadCpu | null {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return null;
  }
  const js = String(process.pid);
  let other = 0;
  for (const t of tids) if (t !== js) other += ns(t);
  return { jsMs: ns(js) / 1e6, otherMs: other / 1e6 };
}

/** a − b, field by field (null when either is). */
export function threadCpuSince(b: ThreadCpu | null): ThreadCpu | null {
  const a = threadCpu();
  return a && b ? { jsMs: a.jsMs - b.jsMs, otherMs: a.otherMs - b.otherMs } : null;
}
