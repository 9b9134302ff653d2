// Contract tests of `csrm serve`: a real server on 127.0.0.1 port 0, real HTTP requests.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { embedCatalogue, writeEmbeddings } from '../../../pipeline/online/embeddings-file.ts';
import { createHashedTower } from '../../../pipeline/online/hashed-tower.ts';
import { relevanceProb } from '../../../pipeline/online/rank.ts';
import { startServer, type RunningServer } from '../../../pipeline/online/serve.ts';
import { gated, http, postJson, until } from './serve-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'csrm-serve-'));
const models = { em: createHashedTower({ dim: 64 }), defect: createHashedTower({ dim: 64, invert: true, seed: 7 }) };
const TITLES = [
  'natural lake salt for cooking', 'lake salt potato chips', 'sea salt grinder', 'wall paint white 5l',
  'paint roller and brush set', 'acrylic paint for canvas', 'running shoes men', 'trail running shoes',
  'wireless earbuds', 'bluetooth speaker', 'rice cooker 10 cup', 'stainless steel pan',
];
const catalogue = TITLES.map((text, i) => ({ id: `p${i}`, text }));
const ALL = catalogue.map((c) => c.id);
const TOKEN = 'test-admin-token-0123456789';
const ADMIN = { authorization: `Bearer ${TOKEN}` };
const LIMITS = { maxIds: 20, maxBodyBytes: 4096, maxQueryChars: 50, cacheSize: 4 };

async function writeCatalogue(file: string, items: { id: string; text: string }[]) {
  return writeEmbeddings(file, await embedCatalogue(models, items));
}

async function expected(query: string, ids: string[]) {
  const [qe] = await models.em.encodeQueries([query]);
  const [qd] = await models.defect.encodeQueries([query]);
  const items = ids.map((id) => catalogue.find((c) => c.id === id)!);
  const ie = await models.em.encodeItems(items);
  const id = await models.defect.encodeItems(items);
  const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
  return ids.map((product_id, i) => ({
    product_id,
    em: relevanceProb(dot(qe!, ie[i]!), 8),
    defect: relevanceProb(dot(qd!, id[i]!), 8),
  }));
}

describe('serve: scoring contract', () => {
  let s: RunningServer;
  const file = join(dir, 'main.bin');
  let version = '';
  beforeAll(async () => {
    version = await writeCatalogue(file, catalogue);
    s = await startServer({ models, embeddingsFile: file, port: 0, ...LIMITS, log: () => {} });
  });
  afterAll(() => s.close());

  it('listens on loopback and reports health', async () => {
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await http(s.url, 'GET', '/healthz');
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ status: 'ok', embeddings: { version, count: TITLES.length } });
  });

  it('POST /score returns σ(s·cos) of both towers, in request order', async () => {
    const ids = ['p3', 'p0', 'p1', 'p11'];
    const r = await postJson(s.url, '/score', { query: 'lake salt', product_ids: ids });
    expect(r.status).toBe(200);
    expect(r.headers['x-embeddings-version']).toBe(version);
    const got = r.json() as { product_id: string; em: number; defect: number }[];
    const want = await expected('lake salt', ids);
    expect(got.map((g) => g.product_id)).toEqual(ids);
    got.forEach((g, i) => {
      expect(g.em).toBeCloseTo(want[i]!.em, 6);
      expect(g.defect).toBeCloseTo(want[i]!.defect, 6);
    });
    expect(got[1]!.em).toBeGreaterThan(got[0]!.em); // lake salt beats wall paint
    const empty = await postJson(s.url, '/score', { query: 'lake salt', product_ids: [] });
    expect([empty.status, empty.json()]).toEqual([200, []]);
  });

  it('POST /rank filters by defect < threshold, orders by EM, lists the filtered ids, honours k', async () => {
    const query = 'lake salt';
    const scores = await expected(query, ALL);
    const r = await postJson(s.url, '/rank', { query, candidate_ids: ALL });
    expect(r.status).toBe(200);
    const { ranked, filtered_out } = r.json() as { ranked: { product_id: string; em: number; defect: number }[]; filtered_out: string[] };
    const keep = scores.filter((x) => x.defect < 0.5);
    expect(ranked.map((x) => x.product_id).sort()).toEqual(keep.map((x) => x.product_id).sort());
    expect(filtered_out).toEqual(scores.filter((x) => x.defect >= 0.5).map((x) => x.product_id));
    expect(filtered_out.length).toBeGreaterThan(0); // the case must exercise the filter
    expect(ranked.length).toBeGreaterThan(1);
    for (let i = 1; i < ranked.length; i++) expect(ranked[i - 1]!.em).toBeGreaterThanOrEqual(ranked[i]!.em);
    const top = await postJson(s.url, '/rank', { query, candidate_ids: ALL, k: 1 });
    expect(top.json().ranked).toEqual([ranked[0]]);
  });

  const bad: [string, () => ReturnType<typeof http>, number, RegExp][] = [
    ['malformed JSON', () => http(s.url, 'POST', '/score', '{"query": "a",', { 'content-type': 'application/json' }), 400, /malformed JSON/],
    ['invalid UTF-8', () => http(s.url, 'POST', '/score', Buffer.from([0x7b, 0xff, 0x7d]), { 'content-type': 'application/json' }), 400, /UTF-8/],
    ['not an object', () => postJson(s.url, '/score', ['a']), 400, /JSON object/],
    ['empty query', () => postJson(s.url, '/score', { query: '  ', product_ids: ['p0'] }), 400, /empty/],
    ['query not a string', () => postJson(s.url, '/rank', { query: 3, candidate_ids: ['p0'] }), 400, /must be a string/],
    ['over-long query', () => postJson(s.url, '/score', { query: 'x'.repeat(51), product_ids: ['p0'] }), 400, /51 characters, the limit is 50/],
    ['too many ids', () => postJson(s.url, '/score', { query: 'a', product_ids: Array.from({ length: 21 }, (_, i) => `p${i}`) }), 400, /21 ids, the limit is 20/],
    ['repeated ids', () => postJson(s.url, '/rank', { query: 'a', candidate_ids: ['p0', 'p0'] }), 400, /repeats/],
    ['ids not strings', () => postJson(s.url, '/score', { query: 'a', product_ids: [1] }), 400, /non-empty strings/],
    ['ids missing', () => postJson(s.url, '/score', { query: 'a' }), 400, /must be an array/],
    ['unknown field', () => postJson(s.url, '/score', { query: 'a', product_id: ['p0'], product_ids: [] }), 400, /unknown fields: product_id/],
    ['bad k', () => postJson(s.url, '/rank', { query: 'a', candidate_ids: ['p0'], k: 0 }), 400, /positive integer/],
    ['wrong content type', () => http(s.url, 'POST', '/score', '{}', { 'content-type': 'text/plain' }), 415, /application\/json/],
    ['no content type', () => http(s.url, 'POST', '/rank', '{}'), 415, /application\/json/],
    ['declared body too large', () => http(s.url, 'POST', '/score', 'x'.repeat(5000), { 'content-type': 'application/json' }), 413, /limit of 4096/],
    ['chunked body too large', () => http(s.url, 'POST', '/score', [Buffer.alloc(3000, 32), Buffer.alloc(3000, 32)], { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }), 413, /limit of 4096/],
    ['wrong method', () => http(s.url, 'GET', '/score'), 405, /takes POST/],
    ['unknown route', () => http(s.url, 'GET', '/nope'), 404, /no route/],
  ];
  for (const [name, send, status, msg] of bad) {
    it(`answers ${status} for ${name}`, async () => {
      const r = await send();
      expect(r.status).toBe(status);
      expect(r.json().error).toMatch(msg);
    });
  }

  it('answers 400 to bytes that are not HTTP, and keeps serving', async () => {
    const { port } = new URL(s.url);
    const reply = await new Promise<string>((resolve, reject) => {
      const sock = connect(Number(port), '127.0.0.1', () => sock.end('NOT HTTP AT ALL\r\n\r\n'));
      let text = '';
      sock.on('data', (d) => (text += d));
      sock.on('end', () => resolve(text));
      sock.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400 Bad Request/);
    expect(reply).toMatch(/"error":"malformed HTTP request/);
    expect((await http(s.url, 'GET', '/healthz')).status).toBe(200);
  });

  it('answers 404 with the unknown ids listed, whichever route', async () => {
    for (const [path, field] of [['/score', 'product_ids'], ['/rank', 'candidate_ids']] as const) {
      const r = await postJson(s.url, path, { query: 'a', [field]: ['p0', 'zz1', 'p1', 'zz2'] });
      expect(r.status).toBe(404);
      expect(r.json().unknown_ids).toEqual(['zz1', 'zz2']);
    }
  });

  it('caches query embeddings (LRU) and exposes counts, latency and embeddings in /metrics', async () => {
    const before = (await http(s.url, 'GET', '/metrics')).json();
    await postJson(s.url, '/score', { query: 'fresh query one', product_ids: ['p0'] });
    await postJson(s.url, '/rank', { query: 'fresh query one', candidate_ids: ['p1'] }); // hit
    await postJson(s.url, '/score', { query: '  fresh query one ', product_ids: ['p2'] }); // trimmed: hit
    const m = (await http(s.url, 'GET', '/metrics')).json();
    expect(m.cache.misses - before.cache.misses).toBe(1);
    expect(m.cache.hits - before.cache.hits).toBe(2);
    expect(m.cache.capacity).toBe(4);
    expect(m.cache.size).toBeLessThanOrEqual(4);
    expect(m.requests['/score']['200'] - (before.requests['/score']?.['200'] ?? 0)).toBe(2);
    expect(m.requests['/score']['400']).toBeGreaterThan(0);
    expect(m.latency_ms['/score'].p99_ms).toBeGreaterThanOrEqual(m.latency_ms['/score'].p50_ms);
    expect(m.latency_ms['/score'].p50_ms).toBeGreaterThan(0);
    expect(m.embeddings).toMatchObject({ version, count: TITLES.length, dim: 64 });
  });

  it('fuzz: random garbage bodies, types and paths never crash it nor yield a 500', async () => {
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
      fc.record({ query: fc.anything(), product_ids: fc.anything(), candidate_ids: fc.anything(), k: fc.anything() }, { requiredKeys: [] })
        .map((v) => Buffer.from(JSON.stringify(v) ?? '{}')),
      fc.record({ query: fc.string({ maxLength: 60 }), product_ids: fc.array(fc.constantFrom(...ALL, 'zz', ''), { maxLength: 25 }) })
        .map((v) => Buffer.from(JSON.stringify(v))),
      fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)),
    );
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(
        body,
        fc.constantFrom('/score', '/rank', '/healthz', '/metrics', '/x', '/score?x=1', '//score'),
        fc.constantFrom('POST', 'GET', 'PUT'),
        fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', ''),
        async (b, path, method, type) => {
          const r = await http(s.url, method, path, b, type ? { 'content-type': type } : {});
          seen.add(r.status);
          expect([200, 400, 404, 405, 413, 415]).toContain(r.status);
          expect(() => r.json(), `${method} ${path} ${type} → ${r.status} '${r.text}'`).not.toThrow();
        },
      ),
      { numRuns: 300 },
    );
    expect(seen.has(200) && seen.has(400)).toBe(true);
    expect((await http(s.url, 'GET', '/healthz')).status).toBe(200);
    expect((await http(s.url, 'GET', '/metrics')).json().requests.other).toBeDefined();
  });
});

describe('serve: refresh and shutdown', () => {
  it('swaps the embeddings atomically; in-flight requests keep the old table; a bad file changes nothing', async () => {
    const file = join(dir, 'refresh.jsonl');
    const v1 = await writeCatalogue(file, catalogue);
    const g = { em: gated(models.em), defect: gated(models.defect) };
    const logged: string[] = [];
    const s = await startServer({ models: g, embeddingsFile: file, adminToken: TOKEN, log: (l) => logged.push(l) });
    try {
      g.em.close();
      const inflight = postJson(s.url, '/score', { query: 'salt', product_ids: ['p0', 'p1'] });
      await until(() => g.em.waiting() === 1); // the request has read the table and waits on the tower
      const v2 = await writeCatalogue(file, [...catalogue.slice(1), { id: 'new', text: 'himalayan pink salt' }]);
      const r = await http(s.url, 'POST', '/admin/refresh', '{}', { 'content-type': 'application/json', ...ADMIN });
      expect(r.json()).toEqual({ version: v2, count: TITLES.length, previous_version: v1 });
      g.em.open();
      const old = await inflight;
      expect(old.status).toBe(200); // p0 is gone from the new table, but this request began before
      expect(old.headers['x-embeddings-version']).toBe(v1);
      const now = await postJson(s.url, '/score', { query: 'salt', product_ids: ['p0', 'new'] });
      expect([now.status, now.json().unknown_ids]).toEqual([404, ['p0']]);
      const ok = await postJson(s.url, '/score', { query: 'salt', product_ids: ['new'] });
      expect(ok.headers['x-embeddings-version']).toBe(v2);

      writeFileSync(file, '{"product_id": "x", "em": [0.5], "defect": [1]}\n');
      const fail = await http(s.url, 'POST', '/admin/refresh', undefined, ADMIN);
      expect(fail.status).toBe(500);
      // the client learns that it failed; the reason, with the file's path, goes to the log only
      expect(fail.json().error).toMatch(new RegExp(`still serving ${v2}`));
      expect(fail.text).not.toContain(dir);
      expect(logged.join('\n')).toMatch(/refresh .*failed.*norm/);
      const m = (await http(s.url, 'GET', '/metrics')).json();
      expect(m.embeddings).toMatchObject({ version: v2, refreshes: 1, refresh_failures: 1 });
    } finally {
      g.em.open();
      await s.close();
    }
  });

  it('close() lets an in-flight request finish, then refuses connections', async () => {
    const file = join(dir, 'close.bin');
    await writeCatalogue(file, catalogue);
    const g = { em: gated(models.em), defect: models.defect };
    const s = await startServer({ models: g, embeddingsFile: file, log: () => {} });
    g.em.close();
    const inflight = postJson(s.url, '/rank', { query: 'paint', candidate_ids: ALL });
    await until(() => g.em.waiting() === 1);
    const closed = s.close();
    await new Promise((r) => setTimeout(r, 50));
    g.em.open();
    const r = await inflight;
    expect(r.status).toBe(200);
    expect(r.headers.connection).toBe('close');
    await closed;
    await expect(http(s.url, 'GET', '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('the CLI builds embeddings from a catalogue, serves, and exits 0 on SIGTERM', async () => {
    const cat = join(dir, 'catalogue.jsonl');
    writeFileSync(cat, catalogue.map((c) => JSON.stringify({ market: 'tw', language: 'en', product_id: c.id, product_title: c.text })).join('\n') + '\n');
    const child = spawn(process.execPath, ['--import', 'tsx', 'pipeline/cli/serve.ts', '--catalogue', cat, '--embeddings', join(dir, 'cli.bin'), '--port', '0', '--em', 'hashed:dim=32', '--defect', 'hashed:dim=32,invert=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await until(() => /listening (\S+)/.test(out), 60_000);
    const url = /listening (\S+)/.exec(out)![1]!;
    const r = await postJson(url, '/rank', { query: 'running shoes', candidate_ids: ALL, k: 2 });
    expect(r.status).toBe(200);
    expect(r.json().ranked.map((x: { product_id: string }) => x.product_id).sort()).toEqual(['p6', 'p7']); // the two shoe titles
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(err).toMatch(/SIGTERM, draining/);
    expect(err).toMatch(/serve: stopped/);
  });
});
