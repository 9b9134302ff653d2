// `csrm serve`: the online relevance service of section 3.5 on node:http. Product embeddings are
// precomputed (embeddings-file.ts) and swapped atomically on refresh; query embeddings are cached.
//
// Routes (JSON in, JSON out):
//   POST /score  {query, product_ids}          → [{product_id, em, defect}], request order
//   POST /rank   {query, candidate_ids, k?}    → {ranked: [{product_id, em, defect}], filtered_out: [ids]}
//                ranked: defect < threshold, EM descending (ties: request order), at most k;
//                filtered_out: defect ≥ threshold, request order
//   POST /admin/refresh                         → {version, count, previous_version}; rereads the file
//                /admin/* needs `authorization: Bearer <adminToken>` (401 without it); with no token
//                configured it answers 403, unless the server was started with insecureAdmin
//   GET  /healthz                               → {status, embeddings}; 503 while shutting down
//   GET  /metrics                               → request counts, latency p50/p99, cache, embeddings
// Every scoring response carries the embeddings version it used in `x-embeddings-version`.
//
// Errors are {error, ...detail}: 400 bad JSON or fields (empty or over-long query, too many or
// repeated ids, unknown fields), 404 unknown route or unknown product ids — listed in
// `unknown_ids` (404 because the named resource, a product embedding, does not exist in the table
// being served; the caller can drop those ids and retry), 405 wrong method, 413 body too large,
// 415 content type not application/json. A 500 means a bug or a failed refresh: its body says no
// more than that (no file paths, no OS errors), the details go to the log; it never stops the server.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { readEmbeddings, type EmbeddingTable } from './embeddings-file.ts';
import { discardBody, HttpError, readJsonBody, sendJson } from './http-io.ts';
import { LatencyHistogram } from './latency.ts';
import { rankCandidates } from './rank.ts';
import { parseRankRequest, parseScoreRequest, type RequestLimits } from './requests.ts';
import { Scorer } from './scorer.ts';
import type { OnlineModels } from './types.ts';

export interface ServeOptions {
  models: OnlineModels;
  /** JSON lines or binary (embeddings-file.ts); reread on POST /admin/refresh. */
  embeddingsFile: string;
  /** 127.0.0.1 unless given; any other address gets a warning at start (plain HTTP, reachable by others). */
  host?: string;
  /** Bearer token required by /admin/*. */
  adminToken?: string;
  /** Leave /admin/* open when no token is set (otherwise it answers 403). */
  insecureAdmin?: boolean;
  /** 0 picks a free port. */
  port?: number;
  /** Defect probability at or above which a candidate is filtered out (0.5). */
  threshold?: number;
  /** Query embeddings kept in the LRU cache (10 000). */
  cacheSize?: number;
  /** Heap bytes the cache may hold (64 MiB), whatever the entry count. */
  cacheBytes?: number;
  /** Most ids in one request (1000). */
  maxIds?: number;
  /** Longest query in UTF-16 units (400). */
  maxQueryChars?: number;
  /** Largest request body in bytes (1 MiB). */
  maxBodyBytes?: number;
  /** How long close() waits for in-flight requests before cutting connections (10 s). */
  drainMs?: number;
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  /** Stops accepting, lets in-flight requests finish (up to drainMs), then closes every connection. */
  close(): Promise<void>;
  /** The same as POST /admin/refresh. */
  refresh(): Promise<RefreshResult>;
}

export interface RefreshResult {
  version: string;
  count: number;
  previous_version: string;
}

const ROUTES: Record<string, string> = {
  '/score': 'POST',
  '/rank': 'POST',
  '/admin/refresh': 'POST',
  '/healthz': 'GET',
  '/metrics': 'GET',
};

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** 127.0.0.0/8 and ::1 (also as IPv4-mapped): only this machine can connect. */
export function isLoopback(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

/** What start-up says when the address is reachable from other machines; null on loopback. */
export function exposureWarning(url: string, address: string, admin: 'token' | 'open' | 'disabled'): string | null {
  if (isLoopback(address)) return null;
  const adminNote = { token: '/admin/* needs the token, which travels in the clear', open: '/admin/* is open to anyone (--insecure-admin)', disabled: '/admin/* is disabled' }[admin];
  return `serve: WARNING: listening on ${url}, reachable from other machines, over plain HTTP (no TLS); ${adminNote}`;
}

function checkDims(table: EmbeddingTable, models: OnlineModels): EmbeddingTable {
  if (table.dim !== models.em.dim) throw new Error(`embeddings have dimension ${table.dim}, the towers ${models.em.dim}`);
  return table;
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const threshold = opts.threshold ?? 0.5;
  const limits: RequestLimits = { maxIds: opts.maxIds ?? 1000, maxQueryChars: opts.maxQueryChars ?? 400 };
  const maxBodyBytes = opts.maxBodyBytes ?? 1 << 20;
  const scorer = new Scorer(opts.models, opts.cacheSize ?? 10_000, opts.cacheBytes ?? 64 * 2 ** 20);
  if (opts.adminToken !== undefined && opts.adminToken.length < 16) throw new Error('serve: the admin token must be at least 16 characters');
  const tokenDigest = opts.adminToken === undefined ? null : createHash('sha256').update(opts.adminToken).digest();

  // The table is one reference: a request reads it once at its start and keeps that table to the
  // end, so a refresh never mixes two versions inside one response.
  let table = checkDims(await readEmbeddings(opts.embeddingsFile), opts.models);
  let loadedAt = new Date().toISOString();
  let refreshes = 0;
  let refreshFailures = 0;
  let refreshChain: Promise<unknown> = Promise.resolve();

  const refresh = (): Promise<RefreshResult> => {
    // Serialised, so two refreshes cannot finish out of order and leave the older file in place.
    const run = refreshChain.then(async () => {
      try {
        const next = checkDims(await readEmbeddings(opts.embeddingsFile), opts.models);
        const previous_version = table.version;
        table = next;
        loadedAt = new Date().toISOString();
        refreshes++;
        log(`serve: embeddings ${previous_version} → ${next.version} (${next.ids.length} products)`);
        return { version: next.version, count: next.ids.length, previous_version };
      } catch (e) {
        refreshFailures++;
        throw e;
      }
    });
    refreshChain = run.catch(() => undefined);
    return run;
  };

  const counts = new Map<string, Map<number, number>>();
  const latency = new Map<string, LatencyHistogram>();
  const started = Date.now();
  let inFlight = 0;
  let draining = false;

  function unknownIds(t: EmbeddingTable, ids: readonly string[]): void {
    const unknown = ids.filter((id) => !t.index.has(id));
    if (unknown.length > 0) throw new HttpError(404, `unknown product ids: ${unknown.length}`, { unknown_ids: unknown });
  }

  function metrics() {
    const requests: Record<string, Record<string, number>> = {};
    for (const [route, m] of counts) requests[route] = Object.fromEntries([...m].sort((a, b) => a[0] - b[0]));
    const lat: Record<string, ReturnType<LatencyHistogram['summary']>> = {};
    for (const [route, h] of latency) lat[route] = h.summary();
    const c = scorer.cache;
    return {
      uptime_s: (Date.now() - started) / 1000,
      in_flight: inFlight,
      requests,
      latency_ms: lat,
      cache: { size: c.size, capacity: c.capacity, bytes: c.bytes, max_bytes: c.maxBytes, hits: c.hits, misses: c.misses, hit_rate: c.hitRate() },
      embeddings: { version: table.version, count: table.ids.length, dim: table.dim, loaded_at: loadedAt, refreshes, refresh_failures: refreshFailures },
      threshold,
    };
  }

  /** /admin/* is for whoever holds the token: compared as digests, in constant time. */
  function checkAdmin(req: IncomingMessage): void {
    if (tokenDigest === null) {
      if (opts.insecureAdmin) return;
      req.resume();
      throw new HttpError(403, 'admin routes are disabled: start the server with an admin token (CSRM_ADMIN_TOKEN or --admin-token-file) or --insecure-admin');
    }
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const given = createHash('sha256').update(m?.[1] ?? '').digest();
    if (!m || !timingSafeEqual(given, tokenDigest)) {
      req.resume();
      throw new HttpError(401, 'admin routes need `authorization: Bearer <token>`');
    }
  }

  async function dispatch(req: IncomingMessage, path: string): Promise<Reply> {
    if (path.startsWith('/admin/')) checkAdmin(req);
    const method = ROUTES[path];
    if (method === undefined) throw new HttpError(404, `no route ${path}`);
    if (req.method !== method) throw new HttpError(405, `${path} takes ${method}`, { allow: method });
    switch (path) {
      case '/healthz':
        discardBody(req);
        return {
          status: draining ? 503 : 200,
          body: { status: draining ? 'shutting down' : 'ok', embeddings: { version: table.version, count: table.ids.length } },
        };
      case '/metrics':
        discardBody(req);
        return { status: 200, body: metrics() };
      case '/admin/refresh': {
        discardBody(req); // the file is the configured one; a request cannot point the server elsewhere
        try {
          return { status: 200, body: await refresh() };
        } catch (e) {
          log(`serve: refresh from ${opts.embeddingsFile} failed, still serving ${table.version}: ${(e as Error).message}`);
          return { status: 500, body: { error: `refresh failed, still serving ${table.version} (the reason is in the server log)`, version: table.version } };
        }
      }
      case '/score': {
        const t = table;
        const r = parseScoreRequest(await readJsonBody(req, maxBodyBytes), limits);
        unknownIds(t, r.product_ids);
        const scores = scorer.score(t, await scorer.embedQuery(r.query), r.product_ids);
        return { status: 200, body: scores, headers: { 'x-embeddings-version': t.version } };
      }
      case '/rank': {
        const t = table;
        const r = parseRankRequest(await readJsonBody(req, maxBodyBytes), limits);
        unknownIds(t, r.candidate_ids);
        const { ranked, filtered } = rankCandidates(scorer.score(t, await scorer.embedQuery(r.query), r.candidate_ids), threshold);
        return {
          status: 200,
          body: { ranked: r.k === undefined ? ranked : ranked.slice(0, r.k), filtered_out: filtered.map((c) => c.product_id) },
          headers: { 'x-embeddings-version': t.version },
        };
      }
    }
    throw new HttpError(404, `no route ${path}`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = performance.now();
    inFlight++;
    let path = '?';
    let reply: Reply;
    try {
      path = new URL(req.url ?? '/', 'http://x').pathname;
      reply = await dispatch(req, path);
    } catch (e) {
      if (e instanceof HttpError) {
        reply = { status: e.status, body: { error: e.message, ...e.detail } };
        if (e.status === 405) reply.headers = { allow: String(e.detail.allow) };
        if (e.status === 401) reply.headers = { 'www-authenticate': 'Bearer' };
        // A body we stopped reading would otherwise be parsed as the next request.
        if (e.status === 413 || e.status === 415) reply.headers = { connection: 'close' };
      } else {
        log(`serve: 500 on ${req.method} ${req.url}: ${(e as Error)?.stack ?? String(e)}`);
        reply = { status: 500, body: { error: 'internal error' } };
      }
    }
    try {
      sendJson(res, reply.status, reply.body, draining ? { ...reply.headers, connection: 'close' } : reply.headers);
    } catch (e) {
      log(`serve: could not send a response: ${(e as Error).message}`);
      res.destroy();
    } finally {
      inFlight--;
      const route = path in ROUTES ? path : 'other';
      const m = counts.get(route) ?? new Map<number, number>();
      m.set(reply.status, (m.get(reply.status) ?? 0) + 1);
      counts.set(route, m);
      const h = latency.get(route) ?? new LatencyHistogram();
      h.record(performance.now() - t0);
      latency.set(route, h);
      if (draining && inFlight === 0) onIdle?.();
    }
  }

  let onIdle: (() => void) | undefined;
  const server = createServer((req, res) => {
    res.on('error', (e) => log(`serve: response error: ${e.message}`));
    handle(req, res).catch((e) => log(`serve: unhandled: ${String(e)}`));
  });
  server.on('clientError', (err, socket) => {
    // Malformed HTTP never reaches a handler; answer 400 where the socket still can be written.
    const body = JSON.stringify({ error: `malformed HTTP request: ${err.message}` });
    if (socket.writable)
      socket.end(`HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    else socket.destroy(err);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  log(`serve: ${url} — ${table.ids.length} products, embeddings ${table.version}`);
  const warning = exposureWarning(url, addr.address, tokenDigest ? 'token' : opts.insecureAdmin ? 'open' : 'disabled');
  if (warning) log(warning);

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        await Promise.race([
          new Promise<void>((resolve) => (onIdle = resolve)),
          new Promise<void>((resolve) => setTimeout(resolve, opts.drainMs ?? 10_000).unref()),
        ]);
      }
      server.closeAllConnections();
      await closed;
      log('serve: stopped');
    })());

  return { url, close, refresh };
}
