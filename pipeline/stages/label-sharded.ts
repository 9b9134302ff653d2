// `csrm label … --queue redis://HOST:PORT`: the labelling pass of label.ts spread over `csrm worker`
// processes. The samples still to label are cut into shards of whole chunks (so every scoreSeqs
// call sees the batch one process would give it), tokenized here, scored by the workers, and the
// rows of every shard become the same lines one process appends, in the same order: the file is
// byte-identical. It is written once, atomically, when every shard is in; until then the shards
// wait in `<out>.shards/`, so a restarted coordinator redoes none of them.
import { closeSync, copyFileSync, existsSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { RelevanceRecord } from '../data/schema.ts';
import type { QueueTarget } from '../queue/queue-url.ts';
import { passId, readShard, runSharded, type PassResult } from '../queue/run-shards.ts';
import { checkShardSize, sha256Hex, shardCount, shardRange } from '../queue/shard-jobs.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { encodeRelevance } from './encode.ts';
import type { LabelModel } from './label.ts';
import { sampleKey } from './market-data.ts';

export interface ShardQueue {
  target: QueueTarget;
  /** Samples per shard: a multiple of the chunk (default 4 chunks). */
  shardSize?: number;
  /** Attempts per shard before the run stops (default 3). */
  attempts?: number;
  window?: number;
  log?: (s: string) => void;
}

/** Appends `parts` to `out` as one atomic replacement (a copy, then rename): all of them or none. */
function appendAtomic(out: string, parts: Iterable<string>): void {
  const tmp = `${out}.${process.pid}.tmp`;
  copyFileSync(out, tmp);
  const fd = openSync(tmp, 'a');
  try {
    for (const p of parts) writeSync(fd, p);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, out);
}

/** Labels `todo` through the queue and appends their lines to `out` (which has its header). */
export async function labelSharded(tok: Tokenizer, todo: RelevanceRecord[], maxLen: number, out: string, model: LabelModel, o: { queue: ShardQueue; chunk: number; quiet?: boolean }): Promise<PassResult> {
  const shardSize = o.queue.shardSize ?? 4 * o.chunk;
  checkShardSize('label', shardSize, o.chunk);
  const n = todo.length;
  const keys = todo.map(sampleKey);
  const shards = shardCount(n, shardSize);
  const seqs = (i: number) => {
    const { start, end } = shardRange(n, shardSize, i);
    return todo.slice(start, end).map((r) => encodeRelevance(tok, r, maxLen).ids);
  };
  const labelIds = [...tok.labelTokenIds] as [number, number, number];
  // the first shard's tokens stand for the tokenizer and prompt code: a change of either is another run
  const runId = passId({ kind: 'score', base: model.base.sha256, adapters: model.adapters.sha256, maxLen, chunk: o.chunk, shardSize, labelIds, pad: tok.pad, keys: sha256Hex(keys.join('\n')), first: n > 0 ? sha256Hex(JSON.stringify(seqs(0))) : '' });
  const dir = `${out}.shards`;
  const r = await runSharded({
    queue: o.queue.target, label: 'label', runId, dir, shards, width: 3,
    items: (i) => { const { start, end } = shardRange(n, shardSize, i); return end - start; },
    job: (i) => ({ kind: 'score', run: runId, shard: i, base: model.base, adapters: model.adapters, maxLen, chunk: o.chunk, labelIds, pad: tok.pad, seqs: seqs(i) }),
    describe: (i) => { const { start, end } = shardRange(n, shardSize, i); return `samples ${start}–${end - 1} of ${n}, ${keys[start]} … ${keys[end - 1]}`; },
    itemName: (i, j) => keys[shardRange(n, shardSize, i).start + j],
    attempts: o.queue.attempts, window: o.queue.window, quiet: o.quiet, log: o.queue.log,
  });
  function* lines(): Generator<string> {
    for (let i = 0; i < shards; i++) {
      const { start, end } = shardRange(n, shardSize, i);
      const rows = readShard(dir, i, end - start, 3);
      let text = '';
      for (let j = 0; j < end - start; j++) text += JSON.stringify({ key: keys[start + j], p: [rows[3 * j], rows[3 * j + 1], rows[3 * j + 2]] }) + '\n';
      yield text;
    }
  }
  if (n > 0) appendAtomic(out, lines());
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  return r;
}
