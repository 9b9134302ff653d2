// The EBR catalogue encode (`csrm rqa --star --queue …`) spread over `csrm worker` processes: the
// titles' token ids go out in shards of whole encode batches, the rows come back, and the result is
// the Float32Array encodeAllHost gives in one process, bit for bit.
import { rmSync } from 'node:fs';
import { checkpointDigest } from '../../engine/checkpoint.ts';
import { passId, readShard, runSharded } from '../queue/run-shards.ts';
import { checkShardSize, sha256Hex, shardCount, shardRange } from '../queue/shard-jobs.ts';
import type { ShardQueue } from '../stages/label-sharded.ts';

export interface EmbedShardedOpts {
  queue: ShardQueue;
  /** Folder for the shard files while the pass runs. */
  dir: string;
  /** encodeAllHost's batch (default 512, as there). */
  batch?: number;
  label?: string;
  quiet?: boolean;
}

export async function embedSharded(encoderPath: string, tower: 'query' | 'product', texts: number[][], dim: number, o: EmbedShardedOpts): Promise<Float32Array> {
  const batch = o.batch ?? 512;
  const size = o.queue.shardSize ?? 4 * batch;
  const label = o.label ?? 'embed';
  checkShardSize(label, size, batch);
  const encoder = { path: encoderPath, sha256: await checkpointDigest(encoderPath) };
  const n = texts.length;
  const shards = shardCount(n, size);
  const runId = passId({ kind: 'embed', encoder: encoder.sha256, tower, batch, size, texts: sha256Hex(JSON.stringify(texts)) });
  await runSharded({
    queue: o.queue.target, label, runId, dir: o.dir, shards, width: dim,
    items: (i) => { const r = shardRange(n, size, i); return r.end - r.start; },
    job: (i) => { const r = shardRange(n, size, i); return { kind: 'embed', run: runId, shard: i, encoder, tower, batch, texts: texts.slice(r.start, r.end) }; },
    describe: (i) => { const r = shardRange(n, size, i); return `texts ${r.start}–${r.end - 1} of ${n}`; },
    attempts: o.queue.attempts, window: o.queue.window, quiet: o.quiet, log: o.queue.log,
  });
  const out = new Float32Array(n * dim);
  for (let i = 0; i < shards; i++) {
    const r = shardRange(n, size, i);
    out.set(readShard(o.dir, i, r.end - r.start, dim), r.start * dim);
  }
  rmSync(o.dir, { recursive: true, force: true });
  return out;
}
