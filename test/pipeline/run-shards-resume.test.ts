// A sharded pass stopped just after its last shard landed resumes with nothing left to do: it says
// so (the same "already done" line as a partial resume) and returns the kept files without touching
// Redis (the queue URL here points at a closed port, so any connection attempt would fail the test).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseQueueUrl } from '../../pipeline/queue/queue-url.ts';
import { readShard, runSharded, shardFile } from '../../pipeline/queue/run-shards.ts';

const dir = mkdtempSync(join(tmpdir(), 'run-shards-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('runSharded resume', () => {
  it('every shard on disk: logs "N of N shards already done", returns them, no queue work', async () => {
    const pass = (log: (s: string) => void) => ({
      queue: parseQueueUrl('redis://127.0.0.1:1'), label: 'label', runId: 'r'.repeat(40), dir, shards: 3, width: 2,
      items: (i: number) => i + 1, job: () => { throw new Error('no shard should be queued'); }, describe: (i: number) => `shard ${i}`, log,
    });
    // the folder as a run leaves it when stopped just after its last shard landed: its stamp and every shard's rows
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ runId: 'r'.repeat(40), shards: 3 }) + '\n');
    for (let i = 0; i < 3; i++) writeFileSync(shardFile(dir, i), Buffer.from(new Float32Array((i + 1) * 2).fill(i + 0.5).buffer));
    const lines: string[] = [];
    const r = await runSharded(pass((s) => lines.push(s)));
    expect(lines).toEqual([`label: 3 of 3 shards already done in ${dir}`]);
    expect(r).toMatchObject({ resumed: 3, stats: [], files: [0, 1, 2].map((i) => shardFile(dir, i)) });
    expect(readShard(dir, 2, 3, 2)[5]).toBe(2.5);
  });
});
