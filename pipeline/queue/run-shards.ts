// The coordinator of a sharded pass: enqueues shard jobs on BullMQ (a bounded window of them at a
// time, so Redis holds a few shards' inputs, not the whole corpus), waits for `csrm worker`
// processes to finish them, keeps each finished shard's rows in a file of its own (atomically) and
// removes its job, and shows progress and ETA across workers. Restarted, it skips the shards whose
// files exist and collects the ones the workers finished meanwhile (job ids are deterministic).
// A shard that failed its last attempt stops the run with a report naming it and the reason; a job
// Redis lost (restarted without persistence) is enqueued again.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Job, Queue, QueueEvents } from 'bullmq';
import { writeFileAtomic } from '../../engine/atomic-file.ts';
import { redisOptions, type QueueTarget } from './queue-url.ts';
import { decodeRows, QUEUE_NAME, sha256Hex, type ShardJob, type ShardResult } from './shard-jobs.ts';

export interface ShardedPass {
  queue: QueueTarget;
  /** What the pass is, for messages ('label', 'embed'). */
  label: string;
  /** Identifies the pass (model, settings, inputs); shard job ids and the shard folder derive from it. */
  runId: string;
  /** Folder for the shard files (created; emptied of another run's shards). */
  dir: string;
  shards: number;
  /** floats per item in a shard's rows */
  width: number;
  items(i: number): number;
  /** The job of shard i (built lazily: tokenizing a shard is the coordinator's work). */
  job(i: number): ShardJob;
  /** How a failure names shard i (its item range and keys). */
  describe(i: number): string;
  /** What item j of shard i is (a sample key), for a worker's `item j` in a failure. */
  itemName?(i: number, j: number): string | undefined;
  attempts?: number;
  /** Shards queued or running at once (default 64). */
  window?: number;
  pollMs?: number;
  quiet?: boolean;
  log?: (s: string) => void;
}

export interface ShardStat {
  shard: number;
  worker: string;
  items: number;
  seconds: number;
  /** Attempts the shard took (1 unless a worker failed or died on it). */
  attempts: number;
}

export interface PassResult {
  /** Shard files, in shard order; each holds items(i) × width float32. */
  files: string[];
  /** Shards done by this run (not found done on disk). */
  stats: ShardStat[];
  resumed: number;
  seconds: number;
  itemsPerSec: number;
  workers: string[];
}

export const shardFile = (dir: string, i: number) => join(dir, `${String(i).padStart(6, '0')}.f32`);
const jobId = (runId: string, i: number) => `${runId.slice(0, 24)}-${i}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reads a shard file back as rows. */
export function readShard(dir: string, i: number, items: number, width: number): Float32Array {
  const b = readFileSync(shardFile(dir, i));
  if (b.byteLength !== items * width * 4) throw new Error(`${shardFile(dir, i)}: ${b.byteLength} bytes, expected ${items} × ${width} float32`);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

interface RunStamp {
  runId: string;
  shards: number;
}

/** The shard folder belongs to one run: another run's shards (other inputs or model) are removed; returns that run. */
function claimDir(dir: string, runId: string, shards: number, log: (s: string) => void): RunStamp | null {
  mkdirSync(dir, { recursive: true });
  const stamp = join(dir, 'run.json');
  const prev = existsSync(stamp) ? (JSON.parse(readFileSync(stamp, 'utf8')) as RunStamp) : null;
  if (prev?.runId === runId) return null;
  const stale = readdirSync(dir).filter((f) => f.endsWith('.f32'));
  if (stale.length > 0) log(`${dir}: removing ${stale.length} shard files of another run (${prev?.runId.slice(0, 12) ?? 'unrecorded'}…)`);
  for (const f of readdirSync(dir)) rmSync(join(dir, f), { recursive: true, force: true });
  writeFileSync(stamp, JSON.stringify({ runId, shards } satisfies RunStamp) + '\n');
  return prev;
}

export async function runSharded(p: ShardedPass): Promise<PassResult> {
  const log = p.log ?? ((s: string) => console.error(s));
  const attempts = p.attempts ?? 3;
  const window = p.window ?? 64;
  const pollMs = p.pollMs ?? 200;
  const replaced = claimDir(p.dir, p.runId, p.shards, log);
  const files = Array.from({ length: p.shards }, (_, i) => shardFile(p.dir, i));
  const total = Array.from({ length: p.shards }, (_, i) => p.items(i)).reduce((a, b) => a + b, 0);
  const todo = files.map((f, i) => i).filter((i) => !existsSync(files[i]!));
  const resumed = p.shards - todo.length;
  const resumedItems = files.reduce((s, f, i) => s + (existsSync(f) ? p.items(i) : 0), 0);
  const t0 = performance.now();
  // said before the early return too: a run stopped just after its last shard landed resumes with nothing to do
  if (resumed > 0) log(`${p.label}: ${resumed} of ${p.shards} shards already done in ${p.dir}`);
  if (todo.length === 0) return { files, stats: [], resumed, seconds: 0, itemsPerSec: 0, workers: [] };

  const conn = redisOptions(p.queue);
  const queue = new Queue<ShardJob, ShardResult, string>(QUEUE_NAME, { connection: conn });
  const events = new QueueEvents(QUEUE_NAME, { connection: conn });
  let redisDown: number | null = null;
  const onError = (e: Error) => {
    if (redisDown === null) {
      redisDown = Date.now();
      log(`${p.label}: lost Redis at ${p.queue.url} (${e.message}); waiting for it to come back`);
    }
  };
  queue.on('error', onError);
  events.on('error', onError);
  const partial = new Map<string, number>();
  events.on('progress', ({ jobId: id, data }) => {
    if (typeof data === 'number') partial.set(id, data);
  });

  let stopSignal: string | null = null;
  const onSignal = (sig: string) => () => {
    stopSignal = sig;
  };
  const onTerm = onSignal('SIGTERM');
  const onInt = onSignal('SIGINT');
  process.once('SIGTERM', onTerm);
  process.once('SIGINT', onInt);

  let lastLine = 0;
  const stats: ShardStat[] = [];
  const inflight = new Map<number, string>();
  let next = 0;
  let doneItems = resumedItems;
  let workers: string[] = [];
  let lastWorkers = 0;
  const seen = new Set<string>();
  try {
    // the replaced run's jobs would only keep the workers busy (a job a worker holds is left to finish)
    if (replaced) for (let i = 0; i < replaced.shards; i++) await queue.remove(jobId(replaced.runId, i)).catch(() => 0);
    const enqueue = async (i: number) => {
      const id = jobId(p.runId, i);
      const old = await Job.fromId<ShardJob, ShardResult>(queue, id);
      if (old && (await old.getState()) === 'failed') {
        log(`${p.label}: shard ${i} failed in an earlier run (${old.failedReason}); trying it again`);
        await old.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      } else if (!old) {
        await queue.add(p.label, p.job(i), { jobId: id, attempts, backoff: { type: 'fixed', delay: 500 }, removeOnComplete: false, removeOnFail: false });
      }
      inflight.set(i, id);
    };
    for (;;) {
      if (stopSignal) throw new Error(`${p.label}: stopped by ${stopSignal} with ${p.shards - todo.length + stats.length} of ${p.shards} shards done; the queued shards stay with the workers — run the same command again to resume`);
      while (inflight.size < window && next < todo.length) await enqueue(todo[next++]!);
      if (inflight.size === 0) break;
      for (const [i, id] of [...inflight]) {
        const state = await queue.getJobState(id);
        if (redisDown !== null) {
          log(`${p.label}: Redis is back after ${((Date.now() - redisDown) / 1000).toFixed(1)} s`);
          redisDown = null;
        }
        if (state === 'completed') {
          const job = await Job.fromId<ShardJob, ShardResult>(queue, id);
          if (!job?.returnvalue) {
            // Redis lost the job between reporting it completed and handing it over (a restart without
            // persistence in between): its rows are gone with it, so it runs again
            log(`${p.label}: shard ${i}'s finished job is gone from Redis before its rows were read; enqueueing it again`);
            inflight.delete(i);
            await enqueue(i);
            continue;
          }
          const r = job.returnvalue;
          const rows = decodeRows(r.rows, p.items(i), p.width, `${p.label} shard ${i} from worker ${r.worker}`);
          await writeFileAtomic(files[i]!, [new Uint8Array(rows.buffer)]);
          await job.remove();
          inflight.delete(i);
          partial.delete(id);
          doneItems += p.items(i);
          seen.add(r.worker);
          stats.push({ shard: i, worker: r.worker, items: r.items, seconds: r.seconds, attempts: job.attemptsMade });
        } else if (state === 'failed') {
          const job = await Job.fromId<ShardJob, ShardResult>(queue, id);
          const tried = job?.attemptsMade ?? attempts;
          // the rest of the run's queued shards would be wasted work: take them back
          for (const [j, other] of inflight) if (j !== i && (await queue.getJobState(other)) === 'waiting') await queue.remove(other);
          const reason = job?.failedReason ?? 'no reason recorded';
          const item = /item (\d+)/.exec(reason);
          const named = item && p.itemName?.(i, Number(item[1]));
          throw new Error(`${p.label}: shard ${i} of ${p.shards} (${p.describe(i)}) failed after ${tried} attempt${tried === 1 ? '' : 's'}: ${reason}${named ? ` (item ${item![1]} is ${named})` : ''}. `
            + `The run stops here; ${stats.length + resumed} shards are done and kept in ${p.dir}`);
        } else if (state === 'unknown') {
          log(`${p.label}: shard ${i}'s job is gone from Redis (restarted without persistence?); enqueueing it again`);
          inflight.delete(i);
          await enqueue(i);
        }
      }
      const now = performance.now();
      if (now - lastWorkers > 2000) {
        workers = (await queue.getWorkers()).map((w) => String(w.name ?? w.id ?? '?'));
        lastWorkers = now;
      }
      const running = [...inflight.values()].reduce((s, id) => s + (partial.get(id) ?? 0), 0);
      if (!p.quiet && (now - lastLine > (process.stderr.isTTY ? 500 : 5000))) {
        lastLine = now;
        const el = (now - t0) / 1000;
        const fresh = doneItems + running - resumedItems;
        const rate = fresh / Math.max(el, 1e-9);
        const eta = rate > 0 ? (total - doneItems - running) / rate : NaN;
        const line = `${p.label} ${doneItems + running}/${total} items, ${p.shards - todo.length + stats.length}/${p.shards} shards, ${workers.length} worker${workers.length === 1 ? '' : 's'}, ${rate.toFixed(1)} items/s, ETA ${Number.isFinite(eta) ? `${eta.toFixed(0)} s` : '?'}`;
        process.stderr.write(process.stderr.isTTY ? `\r${line}\x1b[K` : `${line}\n`);
      }
      await sleep(pollMs);
    }
  } finally {
    process.removeListener('SIGTERM', onTerm);
    process.removeListener('SIGINT', onInt);
    await events.close().catch(() => undefined);
    await queue.close().catch(() => undefined);
  }
  const seconds = (performance.now() - t0) / 1000;
  const fresh = total - resumedItems;
  if (!p.quiet) process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}${p.label}: ${fresh} items in ${seconds.toFixed(1)} s (${(fresh / seconds).toFixed(1)} items/s) on ${seen.size} worker${seen.size === 1 ? '' : 's'}\n`);
  stats.sort((a, b) => a.shard - b.shard);
  return { files, stats, resumed, seconds, itemsPerSec: fresh / Math.max(seconds, 1e-9), workers: [...seen].sort() };
}

/** A run id: the digest of everything that decides the shards' rows. */
export function passId(parts: unknown): string {
  return sha256Hex(JSON.stringify(parts));
}
