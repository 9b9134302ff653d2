// A throw-away redis-server for tests and benchmarks: 127.0.0.1, a free port, no persistence, its
// own folder (scripts/setup.sh installs the binary).
// `restart` stops it and starts it again on the same port (what a Redis restart mid-run looks like
// to clients: connections drop, the data is gone unless persisted).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRedis {
  port: number;
  url: string;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host: '127.0.0.1', port }, () => c.write('PING\r\n'));
    c.once('data', (d) => {
      c.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    c.once('error', () => resolve(false));
  });
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'csrm-redis-'));
  let proc: ChildProcess | null = null;
  const up = async () => {
    const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'], { stdio: ['ignore', 'ignore', 'inherit'] });
    proc = p;
    const spawnError = new Promise<never>((_, reject) => p.once('error', (e) => reject(new Error(`redis-server: ${e.message} (run scripts/setup.sh)`))));
    for (let i = 0; i < 200; i++) {
      if (await Promise.race([ping(port), spawnError])) return;
      if (p.exitCode !== null) throw new Error(`redis-server exited with ${p.exitCode} on port ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not answer on 127.0.0.1:${port}`);
  };
  const down = async () => {
    const p = proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  };
  await up();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      await down();
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await down();
      await up();
    },
  };
}
