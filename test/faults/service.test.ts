// Fault injection, the service (issue 15, case 9): /admin/* without or with a wrong token, a
// non-loopback address, a failed refresh, and many long distinct queries against the cache. Servers
// run on 127.0.0.1 port 0; the non-loopback warning is checked on the function that decides it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseServeArgs } from '../../pipeline/cli/serve.ts';
import { embedCatalogue, writeEmbeddings } from '../../pipeline/online/embeddings-file.ts';
import { createHashedTower } from '../../pipeline/online/hashed-tower.ts';
import { exposureWarning, startServer, type RunningServer } from '../../pipeline/online/serve.ts';
import { http, postJson } from '../pipeline/online/serve-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'csrm-serve-faults-'));
const models = { em: createHashedTower({ dim: 32 }), defect: createHashedTower({ dim: 32, invert: true, seed: 3 }) };
const TOKEN = 'fault-suite-token-7f3a9c';
const items = ['lake salt', 'sea salt grinder', 'wall paint'].map((text, i) => ({ id: `p${i}`, text }));

async function server(file: string, opts: Partial<Parameters<typeof startServer>[0]> = {}): Promise<{ s: RunningServer; logged: string[] }> {
  writeEmbeddings(file, await embedCatalogue(models, items));
  const logged: string[] = [];
  const s = await startServer({ models, embeddingsFile: file, port: 0, log: (l) => logged.push(l), ...opts });
  return { s, logged };
}

describe('/admin/* needs a token', () => {
  it('without a configured token it is disabled (403), and the embeddings stay as they were', async () => {
    const { s } = await server(join(dir, 'off.bin'));
    try {
      const r = await http(s.url, 'POST', '/admin/refresh');
      expect(r.status).toBe(403);
      expect(r.json().error).toMatch(/CSRM_ADMIN_TOKEN or --admin-token-file.*--insecure-admin/);
      expect((await http(s.url, 'GET', '/metrics')).json().embeddings.refreshes).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('with a token: none or a wrong one is 401, the right one refreshes', async () => {
    const { s } = await server(join(dir, 'token.bin'), { adminToken: TOKEN });
    try {
      const none = await http(s.url, 'POST', '/admin/refresh');
      expect([none.status, none.headers['www-authenticate']]).toEqual([401, 'Bearer']);
      expect((await http(s.url, 'POST', '/admin/refresh', undefined, { authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
      expect((await http(s.url, 'POST', '/admin/refresh', undefined, { authorization: TOKEN })).status).toBe(401);
      expect((await http(s.url, 'POST', '/admin/x', undefined, {})).status).toBe(401); // unknown admin routes too
      const ok = await http(s.url, 'POST', '/admin/refresh', undefined, { authorization: `Bearer ${TOKEN}` });
      expect(ok.status).toBe(200);
      expect((await http(s.url, 'GET', '/metrics')).json().embeddings.refreshes).toBe(1);
    } finally {
      await s.close();
    }
  });

  it('insecureAdmin leaves it open on purpose; a short token is refused at start', async () => {
    const { s } = await server(join(dir, 'open.bin'), { insecureAdmin: true });
    try {
      expect((await http(s.url, 'POST', '/admin/refresh')).status).toBe(200);
    } finally {
      await s.close();
    }
    await expect(server(join(dir, 'short.bin'), { adminToken: 'abc' })).rejects.toThrow(/at least 16 characters/);
  });

  it('the CLI takes the token from a file or CSRM_ADMIN_TOKEN, never mixed with --insecure-admin', () => {
    const f = join(dir, 'token.txt');
    writeFileSync(f, `${TOKEN}\n`);
    expect(parseServeArgs(['--embeddings', 'e.bin', '--admin-token-file', f], {}).adminToken).toBe(TOKEN);
    expect(parseServeArgs(['--embeddings', 'e.bin'], { CSRM_ADMIN_TOKEN: TOKEN }).adminToken).toBe(TOKEN);
    expect(parseServeArgs(['--embeddings', 'e.bin'], {}).adminToken).toBeUndefined();
    expect(parseServeArgs(['--embeddings', 'e.bin', '--insecure-admin'], {}).insecureAdmin).toBe(true);
    expect(() => parseServeArgs(['--embeddings', 'e.bin', '--insecure-admin'], { CSRM_ADMIN_TOKEN: TOKEN })).toThrow(/choose one/);
    writeFileSync(f, '\n');
    expect(() => parseServeArgs(['--embeddings', 'e.bin', '--admin-token-file', f], {})).toThrow(`admin token file ${f}: empty`);
    expect(() => parseServeArgs(['--embeddings', 'e.bin', '--admin-token-file', dir], {})).toThrow(`admin token file ${dir}: is a directory`);
  });
});

describe('binding a non-loopback address warns', () => {
  it('warns for 0.0.0.0, ::, a LAN address; not for 127.x or ::1', () => {
    for (const a of ['0.0.0.0', '::', '192.168.1.20', '::ffff:10.0.0.1']) expect(exposureWarning('http://x:1', a, 'token')).toMatch(/WARNING: .*reachable from other machines.*no TLS/);
    expect(exposureWarning('http://x:1', '0.0.0.0', 'open')).toMatch(/open to anyone/);
    for (const a of ['127.0.0.1', '127.3.2.1', '::1', '::ffff:127.0.0.1']) expect(exposureWarning('http://x:1', a, 'open')).toBeNull();
  });
});

describe('a 500 does not show internal paths', () => {
  it('a failed refresh says so to the client and logs the reason with the path', async () => {
    const file = join(dir, 'refresh.jsonl');
    const { s, logged } = await server(file, { adminToken: TOKEN });
    try {
      for (const breakIt of [() => writeFileSync(file, '{"product_id": "x", "em": [0.5], "defect": [1]}\n'), () => rmSync(file)]) {
        breakIt();
        const r = await http(s.url, 'POST', '/admin/refresh', undefined, { authorization: `Bearer ${TOKEN}` });
        expect(r.status).toBe(500);
        expect(r.json().error).toMatch(/refresh failed, still serving/);
        expect(r.text).not.toContain(dir);
        expect(r.text).not.toMatch(/ENOENT|no such file|norm/);
      }
      expect(logged.filter((l) => l.includes(file) && /refresh .*failed/.test(l))).toHaveLength(2);
    } finally {
      await s.close();
    }
  });
});

describe('the query cache is bounded in bytes as well as entries', () => {
  let s: RunningServer;
  beforeAll(async () => {
    ({ s } = await server(join(dir, 'cache.bin'), { cacheSize: 10_000, cacheBytes: 100_000, maxQueryChars: 400 }));
  });
  afterAll(() => s.close());

  it('600 distinct 300-character queries stay under the byte budget, and /metrics says so', async () => {
    for (let i = 0; i < 600; i++) {
      const r = await postJson(s.url, '/score', { query: `${i} ${'long query text '.repeat(19)}`, product_ids: ['p0'] });
      expect(r.status).toBe(200);
    }
    const c = (await http(s.url, 'GET', '/metrics')).json().cache;
    expect(c.max_bytes).toBe(100_000);
    expect(c.bytes).toBeLessThanOrEqual(100_000);
    expect(c.bytes).toBeGreaterThan(90_000); // full, not emptied
    expect(c.size).toBeLessThan(600);
    expect(c.misses).toBe(600);
  });
});
