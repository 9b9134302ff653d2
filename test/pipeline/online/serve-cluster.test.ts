// `csrm serve --processes 2`: two serve processes behind one port (Node cluster). Connections are
// spread over both (each answers /metrics with its own pid), an /admin/refresh answered by one
// reaches the other, a process that dies is replaced, and SIGTERM to the primary drains both and
// exits 0. Throughput against the number of processes is measured in bench/serve-load.ts.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { embedCatalogue, writeEmbeddings } from '../../../pipeline/online/embeddings-file.ts';
import { createHashedTower } from '../../../pipeline/online/hashed-tower.ts';
import { request } from 'node:http';
import { http, postJson } from './serve-helpers.ts';

const repo = join(import.meta.dirname, '../../..');
const models = { em: createHashedTower({ dim: 32 }), defect: createHashedTower({ dim: 32, invert: true, seed: 1 }) };
const write = async (file: string, n: number) => writeEmbeddings(file, await embedCatalogue(models, Array.from({ length: n }, (_, i) => ({ id: `p${i}`, text: `sea salt ${i}` }))));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** GET /metrics with a deadline: a connection handed to a process as it is killed may never be answered. */
const metrics = (url: string): Promise<{ pid: number; embeddings: { version: string } }> =>
  new Promise((resolve, reject) => {
    const req = request(`${url}/metrics`, { agent: false, timeout: 3000 }, (res) => {
      let t = '';
      res.on('data', (d) => (t += d));
      res.on('end', () => resolve(JSON.parse(t)));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('csrm serve --processes 2', () => {
  it('spreads connections over both processes, refreshes both, replaces a dead one, drains both on SIGTERM', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'csrm-serve-cluster-')), 'products.bin');
    await write(file, 20);
    const p = spawn(process.execPath, ['--import', 'tsx', 'pipeline/cli/csrm.ts', 'serve', '--embeddings', file, '--port', '0', '--processes', '2',
      '--em', 'hashed:dim=32', '--defect', 'hashed:dim=32,invert=1,seed=1', '--insecure-admin'], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        p.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening (\S+) \(2 processes\)/.exec(out);
          if (m) resolve(m[1]!);
        });
        p.once('exit', (c) => reject(new Error(`serve exited with ${c}: ${stderr}`)));
      });
      const pids = async (n: number) => {
        const seen = new Map<number, string>();
        for (let i = 0; i < n; i++) {
          const m = await metrics(url);
          seen.set(m.pid, m.embeddings.version);
        }
        return seen;
      };
      const first = await pids(12);
      expect(first.size).toBe(2);
      const r = await postJson(url, '/score', { query: 'sea salt', product_ids: ['p1', 'p2'] });
      expect(r.status).toBe(200);

      const v2 = await write(file, 30);
      expect((await http(url, 'POST', '/admin/refresh')).json().version).toBe(v2);
      let versions = new Map<number, string>();
      for (let i = 0; i < 50 && !(versions.size === 2 && [...versions.values()].every((v) => v === v2)); i++) {
        await sleep(100);
        versions = await pids(6);
      }
      expect([...versions.values()]).toEqual([v2, v2]);

      const [dead] = [...first.keys()];
      process.kill(dead!, 'SIGKILL');
      let now = new Map<number, string>();
      for (let i = 0; i < 100 && !(now.size === 2 && !now.has(dead!)); i++) {
        await sleep(100);
        now = await pids(6).catch(() => new Map());
      }
      expect(now.size).toBe(2);
      expect(now.has(dead!)).toBe(false);
      expect(stderr).toMatch(new RegExp(`process ${dead} exited \\(SIGKILL\\); starting another`));

      p.kill('SIGTERM');
      expect(await exited).toBe(0);
      for (const pid of now.keys()) expect(alive(pid)).toBe(false);
    } finally {
      if (p.exitCode === null) p.kill('SIGKILL');
    }
  });
});
