// Sharded labelling on BullMQ (issue 17): a coordinator in this process, three `csrm worker`
// processes, one redis-server on 127.0.0.1. The soft-label file must be byte-identical to this
// process's own pass, also when a worker is killed with SIGKILL mid-shard (its shard is retried by
// another worker), when Redis restarts mid-run (everyone reconnects; jobs Redis lost are enqueued
// again), and a poisoned shard fails after its attempts with a report naming it.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveCheckpoint } from '../../engine/index.ts';
import { generateMarket } from '../../pipeline/data/market/generate.ts';
import { writeMarket } from '../../pipeline/data/market/write.ts';
import { loadMarketData } from '../../pipeline/stages/market-data.ts';
import { stageTrainRecords, withRqa } from '../../pipeline/stages/sft-stage.ts';
import type { RelevanceRecord } from '../../pipeline/data/schema.ts';
import { parseQueueUrl } from '../../pipeline/queue/queue-url.ts';
import { labelModel, labelRecords, type LabelModel } from '../../pipeline/stages/label.ts';
import { loadAdapters, loadBase } from '../../pipeline/stages/model-io.ts';
import { stageAdapters } from './stage-adapters.ts';
import { loadTokenizer, type Tokenizer } from '../../pipeline/tokenizer/tokenizer.ts';
import { disposeLlama } from '../../models/llama.ts';
import { biEncoderTensors, disposeBiEncoder, encodeAllHost, initBiEncoder } from '../../models/bi-encoder.ts';
import { embedSharded } from '../../pipeline/rqa/embed-sharded.ts';
import { runOnlineStage } from '../../pipeline/stages/online-stage.ts';
import { startRedis, type TestRedis } from '../../pipeline/queue/local-redis.ts';

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
let adaptersPath: string;

interface TestWorker {
  name: string;
  proc: ChildProcess;
  lines: string[];
  /** Resolves with the first stderr line matching `re`, from line `from` on. */
  waitFor(re: RegExp, from?: number): Promise<string>;
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
    waitFor: (re, from = 0) => {
      const hit = lines.slice(from).find((l) => re.test(l));
      return hit ? Promise.resolve(hit) : new Promise((resolve) => waiters.push({ re, resolve }));
    },
  };
  workers.push(w);
  return w;
}

const adapters = (seed: number) => stageAdapters(BASE, dir, seed);

beforeAll(async () => {
  redis = await startRedis();
  for (const n of ['w1', 'w2', 'w3']) startWorker(n);
  tok = await loadTokenizer();
  const a = await adapters(7);
  adaptersPath = a;
  model = await labelModel(BASE, a, MAX_LEN);
  const b = await loadBase(BASE);
  const m = b.model;
  await loadAdapters(m, a, b);
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

describe('faults', () => {
  it('a worker killed with SIGKILL mid-shard: the shard is retried by another worker, nothing lost or duplicated', async () => {
    const out = join(dir, 'killed.jsonl');
    const run = labelRecords(null, tok, recs, MAX_LEN, out, { model, chunk: CHUNK, quiet: true, queue: queue() });
    const victim = workers[0]!;
    const mark = workers.map((w) => w.lines.length);
    const started = await victim.waitFor(/shard \d+ .* started/, mark[0]);
    const shard = Number(/shard (\d+)/.exec(started)![1]);
    victim.proc.kill('SIGKILL');
    await victim.exited;
    await run;
    expect(readFileSync(out).equals(reference)).toBe(true);
    expect(victim.lines.slice(mark[0]).some((l) => l.includes(`shard ${shard} done`))).toBe(false);
    const redone = workers.slice(1).filter((w, i) => w.lines.slice(mark[i + 1]).some((l) => l.includes(`shard ${shard} done`)));
    expect(redone.length).toBeGreaterThan(0);
    startWorker('w4');
  });

  it('Redis restarted mid-run: workers and coordinator reconnect, the jobs Redis lost are enqueued again, the file is the same', async () => {
    const out = join(dir, 'redis-restart.jsonl');
    const logs: string[] = [];
    const before = workers.map((w) => w.lines.length);
    const run = labelRecords(null, tok, recs, MAX_LEN, out, { model, chunk: CHUNK, quiet: true, queue: { ...queue(), log: (s: string) => logs.push(s) } });
    await Promise.race(workers.slice(1).map((w, i) => w.waitFor(/shard \d+ done/, before[i + 1])));
    await redis.restart();
    await run;
    expect(readFileSync(out).equals(reference)).toBe(true);
    expect(logs.join('\n')).toMatch(/gone from Redis/);
    expect(workers.some((w, i) => w.lines.slice(before[i]).some((l) => /Redis at .* is back/.test(l)))).toBe(true);
  });

  it('a poisoned shard fails after its attempts; the run stops naming the shard, the sample and the reason', async () => {
    const out = join(dir, 'poisoned.jsonl');
    const bad = { ...recs[37]!, query: `${recs[37]!.query} zqxpoison` };
    // one sample whose tokens do not index the model's vocabulary (a tokenizer that does not match the model)
    const poisoned: Tokenizer = { ...tok, encode: (s: string) => (s.includes('zqxpoison') ? [...tok.encode(s), 1 << 20] : tok.encode(s)) };
    const only = recs.map((r, i) => (i === 37 ? bad : r));
    const err = await labelRecords(null, poisoned, only, MAX_LEN, out, { model, chunk: CHUNK, quiet: true, queue: { ...queue(), attempts: 2 } }).catch((e: Error) => e);
    const idx = only.indexOf(bad);
    const shard = Math.floor(idx / (2 * CHUNK));
    expect(String(err)).toContain(`label: shard ${shard} of ${Math.ceil(only.length / (2 * CHUNK))} (samples ${shard * 2 * CHUNK}–`);
    expect(String(err)).toContain('failed after 2 attempts');
    expect(String(err)).toContain(`outside the model's vocabulary`);
    expect(String(err)).toContain(`is ${bad.market}:${bad.split}:${bad.query_id}:${bad.product_id}`);
    // nothing was appended: the file holds its header only
    expect(readFileSync(out, 'utf8').trimEnd().split('\n')).toHaveLength(1);
  });
});

describe('the other sharded passes', () => {
  it('the EBR catalogue encode over the queue is bit-identical to encodeAllHost', async () => {
    const cat = generateMarket({ preset: 'tiny', seed: 4 }).catalogue;
    const texts = cat.map((c) => tok.encode(c.product_title)).filter((t) => t.length > 0);
    const enc = initBiEncoder({ vocabSize: tok.vocabSize, embedDim: 24, dim: 16 }, 3);
    const path = join(dir, 'ebr.ckpt');
    await saveCheckpoint(path, { config: enc.config, tensors: biEncoderTensors(enc), step: 0 });
    const local = await encodeAllHost(enc, 'product', texts, 8);
    disposeBiEncoder(enc);
    const shards = join(dir, 'embed.shards');
    const sharded = await embedSharded(path, 'product', texts, 16, { queue: { target: parseQueueUrl(redis.url), shardSize: 32 }, dir: shards, batch: 8, quiet: true });
    expect(texts.length).toBeGreaterThan(3 * 32);
    expect(Buffer.from(sharded.buffer).equals(Buffer.from(local.buffer))).toBe(true);
    expect(existsSync(shards)).toBe(false);
  });

  it("the online stage's KD labels over the queue are byte-identical to one process", async () => {
    const data = join(dir, 'online-market');
    writeMarket(generateMarket({ preset: 'tiny', seed: 1 }), data);
    const files: Buffer[] = [];
    for (const q of [undefined, { target: parseQueueUrl(redis.url), shardSize: 256 }]) {
      const run = join(dir, `online-${q ? 'queue' : 'local'}`);
      mkdirSync(join(run, 'sd-1'), { recursive: true });
      copyFileSync(adaptersPath, join(run, 'sd-1', 'best.ckpt'));
      await runOnlineStage({
        runDir: run, data, base: BASE, teacher: 'sd-1', marketPreset: 'tiny', maxLen: MAX_LEN, quiet: true, log: () => {}, queue: q,
        online: { maxQueries: 24, steps: 2, batchSize: 8, model: { dim: 16, nLayers: 1, nHeads: 2, ffnDim: 32, outDim: 16, maxLen: 24 } },
      });
      files.push(readFileSync(join(run, 'online', 'kd-labels.jsonl')));
    }
    expect(files[0]!.toString().split('\n').length).toBeGreaterThan(257); // two shards
    // the header names each run's own adapters path (same SHA-256); every label line is the same bytes
    const [a, b] = files.map((f) => f.toString('utf8').replace(/online-(local|queue)/, 'online-X'));
    expect(b).toBe(a);
  });
});

describe('stopping and resuming', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const csrm = (args: string[]) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'pipeline/cli/csrm.ts', ...args], { cwd: repo, env: { ...process.env, CSRM_AUTOTUNE: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    return { p, stderr: () => err, code: new Promise<number | null>((r) => p.once('exit', (c) => r(c))) };
  };

  it('csrm label --queue stopped by SIGTERM resumes without redoing finished shards; a worker given SIGTERM finishes its shard and exits 0', async () => {
    const data = join(dir, 'market');
    writeMarket(generateMarket({ preset: 'tiny', seed: 4 }), data);
    const run = join(dir, 'run');
    mkdirSync(join(run, 'stage'), { recursive: true });
    copyFileSync(adaptersPath, join(run, 'stage', 'best.ckpt'));
    const stage = await labelModel(BASE, join(run, 'stage', 'best.ckpt'), MAX_LEN);
    const recs2 = await withRqa(stageTrainRecords(await loadMarketData(data), 2, 1, 11), null); // tiny.json's sft.seed
    const b = await loadBase(BASE);
    const m = b.model;
    await loadAdapters(m, join(run, 'stage', 'best.ckpt'), b);
    const ref = join(dir, 'cli-reference.jsonl');
    await labelRecords(m, tok, recs2, MAX_LEN, ref, { model: stage, chunk: CHUNK, quiet: true });
    disposeLlama(m);

    const out = join(dir, 'cli.jsonl');
    const args = ['label', '--run', run, '--from', 'stage', '--data', data, '--base', BASE, '--out', out, '--config', 'tiny', '--chunk', String(CHUNK), '--queue', redis.url, '--shard-size', String(2 * CHUNK)];
    const first = csrm(args);
    const live = workers.filter((w) => w.proc.exitCode === null && w.proc.signalCode === null);
    const stopped = live[0]!;
    const mark = stopped.lines.length;
    const started = await stopped.waitFor(/shard \d+ .* started/, mark);
    const shard = Number(/shard (\d+)/.exec(started)![1]);
    stopped.proc.kill('SIGTERM');
    expect(await stopped.exited).toBe(0);
    const after = stopped.lines.slice(mark).join('\n');
    expect(after).toContain(`shard ${shard} done`);
    expect(after).toMatch(/stopped$/);
    startWorker('w5');
    const shards = `${out}.shards`;
    while (!existsSync(shards) || readdirSync(shards).filter((f) => f.endsWith('.f32')).length < 2) await sleep(50);
    first.p.kill('SIGTERM');
    expect(await first.code).toBe(1);
    expect(first.stderr()).toMatch(/error: label: stopped by SIGTERM with \d+ of \d+ shards done; .*run the same command again to resume/);
    const kept = readdirSync(shards).filter((f) => f.endsWith('.f32')).map((f) => Number(f.slice(0, -4)));
    const marks = workers.map((w) => w.lines.length);
    const second = csrm(args);
    expect(await second.code).toBe(0);
    expect(second.stderr()).toMatch(new RegExp(`label: (\\d+) of \\d+ shards already done`));
    expect(Number(/label: (\d+) of/.exec(second.stderr())![1])).toBeGreaterThanOrEqual(kept.length);
    for (const [i, w] of workers.entries()) for (const k of kept) expect(w.lines.slice(marks[i]).join('\n')).not.toMatch(new RegExp(`shard ${k} \\(`));
    expect(readFileSync(out).equals(readFileSync(ref))).toBe(true);
  });
});
