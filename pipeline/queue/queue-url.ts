// `--queue redis://HOST:PORT[/DB]`: where the shard queue lives. One Redis serves the coordinator
// and every worker; the connection retries forever (BullMQ needs maxRetriesPerRequest null), so a
// Redis restart stalls the run instead of failing it.
import type { RedisOptions } from 'bullmq';

export interface QueueTarget {
  url: string;
  host: string;
  port: number;
  db: number;
  password?: string;
}

export function parseQueueUrl(url: string): QueueTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue ${url}: not a URL (expected redis://HOST:PORT)`);
  }
  if (u.protocol !== 'redis:') throw new Error(`--queue ${url}: only redis:// is supported (expected redis://HOST:PORT)`);
  if (!u.hostname) throw new Error(`--queue ${url}: no host (expected redis://HOST:PORT)`);
  const port = u.port === '' ? 6379 : Number(u.port);
  const path = u.pathname.replace(/^\//, '');
  const db = path === '' ? 0 : Number(path);
  if (!Number.isInteger(db) || db < 0) throw new Error(`--queue ${url}: database "${path}" is not a number ≥ 0`);
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  return { url, host: u.hostname.replace(/^\[|\]$/g, ''), port, db, ...(password ? { password } : {}) };
}

/** ioredis options for a queue target: reconnect with a capped backoff, never give up a command. */
export function redisOptions(t: QueueTarget): RedisOptions {
  return {
    host: t.host,
    port: t.port,
    db: t.db,
    ...(t.password ? { password: t.password } : {}),
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
  };
}
