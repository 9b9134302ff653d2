// Sharded labelling throughput against the number of `csrm worker` processes on this machine:
// one process labelling alone (label.ts), then the same samples through the queue with 1, 2 and 3
// workers (a loopback redis-server started here), each run checked byte-identical to the first.
// Workers are started and warmed (model loaded, shaders compiled) on a small pass before the
// measured one, as long-lived workers would be.
//   npx tsx bench/queue-scaling.ts [--samples 2048] [--workers 1,2,3] [--shard 256]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine, saveCheckpoint, shutdownGpu } from '../engine/index.ts';
import { paperLora } from '../models/llama-config.ts';
import { addLora, disposeLlama, namedTensors } from '../models/llama.ts';
import { generateMarket } from '../pipeline/data/market/generate.ts';
import { startRedis } from '../pipeline/queue/local-redis.ts';
import { parseQueueUrl } from '../pipeline/queue/queue-url.ts';
import { labelModel, labelRecords } from '../pipeline/stages/label.ts';
import { loadAdapters, loadBase } from '../pipeline/stages/model-io.ts';
import { loadTokenizer } from '../pipeline/tokenizer/tokenizer.ts';

const arg = (name: string, d: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? d : process.argv[i + 1]!;
};
const SAMPLES = Number(arg('samples', '2048'));
const WORKERS = arg('workers', '1,2,3').split(',').map(Number);
const SHARD = Number(arg('shard', '256'));
const CHUNK = 256;
const MAX_LEN = 112;
const BASE = 'pipeline/base/demo-tiny.ckpt';

await initEngine();
const dir = mkdtempSync(join(tmpdir(), 'csrm-queue-bench-'));
const tok = await loadTokenizer();
const recs = generateMarket({ preset: 'demo', seed: 3 }).relevance.slice(0, SAMPLES);
const { model: m, digest } = await loadBase(BASE);
addLora(m, paperLora(m.config.dim), 5);
const adapters = join(dir, 'stage.ckpt');
await saveCheckpoint(adapters, { config: m.config, tensors: namedTensors(m, 'lora'), step: 0, meta: { provenance: { hashes: { base: digest } } } });
disposeLlama(m);
const model = await labelModel(BASE, adapters, MAX_LEN);
const b = await loadBase(BASE);
const llama = b.model;
await loadAdapters(llama, adapters, b);
await labelRecords(llama, tok, recs.slice(0, CHUNK), MAX_LEN, join(dir, 'warm.jsonl'), { model, chunk: CHUNK, quiet: true });
const ref = join(dir, 'one-process.jsonl');
const one = await labelRecords(llama, tok, recs, MAX_LEN, ref, { model, chunk: CHUNK, quiet: true });
disposeLlama(llama);
const rows: Record<string, unknown>[] = [{ setup: 'one process (no queue)', samples: recs.length, samples_per_s: +one.samplesPerSec.toFixed(1), identical: 'reference', load: loadavg()[0]!.toFixed(1) }];

const redis = await startRedis();
const queue = { target: parseQueueUrl(redis.url), shardSize: SHARD };
try {
  for (const w of WORKERS) {
    const procs: ChildProcess[] = Array.from({ length: w }, (_, i) => spawn(process.execPath, [...process.execArgv, 'pipeline/cli/csrm.ts', 'worker', '--queue', redis.url, '--name', `w${i + 1}`], { stdio: ['ignore', 'ignore', 'ignore'] }));
    await labelRecords(null, tok, recs.slice(0, w * SHARD), MAX_LEN, join(dir, `warm-${w}.jsonl`), { model, chunk: CHUNK, quiet: true, queue }); // warm every worker
    const out = join(dir, `queue-${w}.jsonl`);
    const r = await labelRecords(null, tok, recs, MAX_LEN, out, { model, chunk: CHUNK, quiet: true, queue });
    rows.push({ setup: `${w} worker${w === 1 ? '' : 's'} (queue)`, samples: recs.length, samples_per_s: +r.samplesPerSec.toFixed(1), identical: readFileSync(out).equals(readFileSync(ref)), load: loadavg()[0]!.toFixed(1) });
    await Promise.all(procs.map((p) => new Promise((res) => { p.once('exit', res); p.kill('SIGTERM'); })));
  }
} finally {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
console.log(`${cpus().length} cores; shards of ${SHARD} samples, chunk ${CHUNK}; load = 1-minute load average after the run`);
console.table(rows);
await shutdownGpu();
