// Load test of `csrm serve` on loopback: a synthetic catalogue embedded with the hashed towers,
// the service started as its own process through the CLI (so clients and server do not share one
// event loop), C concurrent keep-alive clients, each route run for at most R requests or T seconds (whichever
// comes first), client-side p50/p99 latency and requests/s.
//   npx tsx bench/serve-load.ts [--products 10000] [--clients 16] [--requests 20000] [--seconds 10]
//                               [--ids 100] [--candidates 200] [--queries 500] [--serve-cli pipeline/cli/serve.ts]
//                               [--processes 1]   (N serve processes on the one port: `csrm serve --processes N`)
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { rng } from '../engine/random.ts';
import { embedCatalogue, writeEmbeddings } from '../pipeline/online/embeddings-file.ts';
import { createHashedTower } from '../pipeline/online/hashed-tower.ts';

function arg(name: string, d: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i < 0 ? d : Number(process.argv[i + 1]);
  if (!(Number.isInteger(v) && v > 0)) throw new Error(`--${name} must be a positive integer`);
  return v;
}
const P = arg('products', 10_000);
const C = arg('clients', 16);
const R = arg('requests', 20_000);
const T = arg('seconds', 10);
const IDS = Math.min(arg('ids', 100), P);
const CANDS = Math.min(arg('candidates', 200), P);
const Q = arg('queries', 500);
const N = arg('processes', 1);

const BRANDS = ['acme', 'nordic', 'sakura', 'lumen', 'vertex', 'kumo', 'terra', 'polar'];
const TYPES = ['lake salt', 'sea salt', 'wall paint', 'paint brush', 'running shoes', 'rice cooker', 'earbuds', 'frying pan', 'desk lamp', 'yoga mat'];
const ATTRS = ['white', 'black', '500g', '1kg', 'large', 'mini', 'organic', 'wireless', 'stainless', 'pro'];

const r = rng(42);
const pick = <T>(xs: readonly T[]) => xs[r.int(xs.length)]!;
const catalogue = Array.from({ length: P }, (_, i) => ({ id: `p${i}`, text: `${pick(BRANDS)} ${pick(TYPES)} ${pick(ATTRS)} ${pick(ATTRS)} ${i}` }));
const queries = Array.from({ length: Q }, () => (r.uniform() < 0.5 ? pick(TYPES) : `${pick(BRANDS)} ${pick(TYPES)} ${pick(ATTRS)}`));
const ids = (n: number) => {
  const s = new Set<string>();
  while (s.size < n) s.add(`p${r.int(P)}`);
  return [...s];
};

const dir = mkdtempSync(join(tmpdir(), 'csrm-load-'));
const file = join(dir, 'products.bin');
const models = { em: createHashedTower({ dim: 128 }), defect: createHashedTower({ dim: 128, invert: true, seed: 1 }) };
let t0 = performance.now();
writeEmbeddings(file, await embedCatalogue(models, catalogue));
console.log(`embedded ${P} products (dim 128, two towers) in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
// The CLI runs under the same loader flags as this script (tsx's, or none for a bundled build).
const cliAt = process.argv.indexOf('--serve-cli');
const cli = cliAt < 0 ? 'pipeline/cli/serve.ts' : process.argv[cliAt + 1]!;
const child = spawn(process.execPath, [...process.execArgv, cli, '--embeddings', file, '--host', '127.0.0.1', '--port', '0',
  '--em', 'hashed:dim=128', '--defect', 'hashed:dim=128,invert=1,seed=1', '--processes', String(N)], { stdio: ['ignore', 'pipe', 'inherit'] });
const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
const server = {
  url: await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening (http\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code} before listening`)));
  }),
};
// noDelay: without it Nagle's algorithm holds the body behind the headers for a delayed ACK (~40 ms).
const agent = new Agent({ keepAlive: true, maxSockets: C, noDelay: true } as ConstructorParameters<typeof Agent>[0]);

function post(path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, {
      method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function load(path: '/score' | '/rank') {
  // Bodies are prepared up front, so the clients measure the server, not JSON building.
  const bodies = Array.from({ length: 1000 }, () => JSON.stringify(path === '/score'
    ? { query: pick(queries), product_ids: ids(IDS) }
    : { query: pick(queries), candidate_ids: ids(CANDS), k: 10 }));
  // Warm-up (JIT, query cache), not measured: one request per body cycle of a quarter of the bodies.
  for (let i = 0; i < 250; i += C) await Promise.all(bodies.slice(i, i + C).map((b) => post(path, b)));
  const lat: number[] = [];
  let sent = 0;
  let bad = 0;
  const start = performance.now();
  const deadline = start + T * 1000;
  const client = async () => {
    while (sent < R && performance.now() < deadline) {
      const body = bodies[sent++ % bodies.length]!;
      const t = performance.now();
      if ((await post(path, body)) !== 200) bad++;
      lat.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: C }, client));
  const secs = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.ceil(p * lat.length) - 1)]!;
  return { route: path, requests: lat.length, non200: bad, seconds: +secs.toFixed(2), rps: Math.round(lat.length / secs), p50_ms: +q(0.5).toFixed(3), p99_ms: +q(0.99).toFixed(3) };
}

try {
  console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} (other work on the machine inflates client-side latency)`);
  console.log(`serve: ${N} process${N === 1 ? '' : 'es'} on one port`);
  console.log(`load: ${C} clients, ≤ ${R} requests or ≤ ${T} s per route; /score ${IDS} ids, /rank ${CANDS} candidates (k 10); ${Q} distinct queries`);
  const rows = [await load('/score'), await load('/rank')];
  console.table(rows);
  const m = await new Promise<any>((resolve, reject) => {
    request(`${server.url}/metrics`, { agent }, (res) => {
      let t = '';
      res.on('data', (d) => (t += d));
      res.on('end', () => resolve(JSON.parse(t)));
    }).on('error', reject).end();
  });
  console.log('server view:', JSON.stringify({ latency_ms: m.latency_ms, cache: m.cache, requests: m.requests }));
  if (rows.some((x) => x.non200 > 0)) process.exitCode = 1;
} finally {
  agent.destroy();
  child.kill('SIGTERM');
  console.log(`serve exited with ${await exited} after SIGTERM`);
  rmSync(dir, { recursive: true, force: true });
}
