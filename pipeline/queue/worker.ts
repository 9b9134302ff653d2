// `csrm worker --queue redis://HOST:PORT [--adapter NAME]`: takes shard jobs off the queue one at a
// time until stopped. Each batch reports progress, which also proves the worker alive (BullMQ renews
// its lock on the job meanwhile; a worker killed outright stops renewing, and after the lock runs out
// another worker's stalled-job check puts the shard back in the queue).
// SIGTERM: finish the shard in hand, then exit 0. A second SIGTERM (or SIGINT): give the shard back
// to the queue after the current batch (so another worker takes it at once) and exit 0.
import { hostname } from 'node:os';
import { Worker, WaitingError, type Job } from 'bullmq';
import { initEngine } from '../../engine/index.ts';
import { redisOptions, type QueueTarget } from './queue-url.ts';
import { embedShard, scoreShard, unloadShardModel } from './shard-work.ts';
import { encodeRows, QUEUE_NAME, type ShardJob, type ShardResult } from './shard-jobs.ts';

export interface WorkerOpts {
  queue: QueueTarget;
  /** Substring of the GPU adapter to use (CSRM_ADAPTER), for one worker per GPU. */
  adapter?: string;
  name?: string;
  /** How long a shard stays locked without a renewal before it counts as stalled (default 30 s). */
  lockMs?: number;
  log?: (s: string) => void;
}

export async function runWorker(o: WorkerOpts): Promise<number> {
  const log = o.log ?? ((s: string) => console.error(s));
  if (o.adapter) process.env.CSRM_ADAPTER = o.adapter;
  await initEngine();
  const name = o.name ?? `${hostname()}:${process.pid}`;
  const lockMs = o.lockMs ?? 30_000;
  let release = false;

  let down = false;
  const process1 = async (job: Job<ShardJob, ShardResult>, token?: string): Promise<ShardResult> => {
    const d = job.data;
    if (down) log(`worker ${name}: Redis at ${o.queue.url} is back`);
    down = false;
    const items = d.kind === 'score' ? d.seqs.length : d.texts.length;
    log(`worker ${name}: shard ${d.shard} (${d.kind}, ${items} items, attempt ${job.attemptsMade + 1}) started`);
    const t0 = performance.now();
    const hooks = {
      after: async (done: number) => {
        await job.updateProgress(done);
        return release;
      },
    };
    const rows = d.kind === 'score' ? await scoreShard(d, hooks) : d.kind === 'embed' ? await embedShard(d, hooks) : null;
    if (rows === null) {
      if (!release) throw new Error(`worker ${name}: unknown job kind ${JSON.stringify((d as { kind?: unknown }).kind)}`);
      await job.moveToWait(token);
      log(`worker ${name}: shard ${d.shard} given back to the queue`);
      throw new WaitingError();
    }
    const seconds = (performance.now() - t0) / 1000;
    log(`worker ${name}: shard ${d.shard} done in ${seconds.toFixed(2)} s (${(items / seconds).toFixed(1)} items/s)`);
    return { worker: name, items, seconds, rows: encodeRows(rows) };
  };

  const w = new Worker<ShardJob, ShardResult>(QUEUE_NAME, process1, {
    connection: redisOptions(o.queue),
    name,
    concurrency: 1,
    lockDuration: lockMs,
    stalledInterval: Math.max(1000, Math.round(lockMs / 2)),
    maxStalledCount: 3,
  });
  w.on('error', (e) => {
    if (!down) log(`worker ${name}: Redis at ${o.queue.url}: ${e.message}; reconnecting`);
    down = true;
  });
  w.on('failed', (job, e) => log(`worker ${name}: shard ${job?.data.shard} failed: ${e.message}`));
  await w.waitUntilReady();
  log(`worker ${name}: waiting for shards on ${o.queue.url} (queue ${QUEUE_NAME}, lock ${lockMs} ms)`);

  await new Promise<void>((resolve) => {
    let signals = 0;
    const stop = (sig: string) => {
      signals++;
      if (signals === 1) {
        log(`worker ${name}: ${sig}: finishing the shard in hand, then exiting (${sig} again: give it back now)`);
        w.close().then(resolve, resolve);
      } else {
        release = true;
        log(`worker ${name}: ${sig} again: giving the shard back after this batch`);
      }
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
  unloadShardModel();
  log(`worker ${name}: stopped`);
  return 0;
}
