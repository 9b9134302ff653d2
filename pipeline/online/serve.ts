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
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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

/** The served table: one reference, swapped whole by a refresh (refreshes run one at a time). */
function servedTable(first: EmbeddingTable, opts: ServeOptions, log: (l: string) => void) {
  const st = { table: first, loadedAt: new Date().toISOString(), refreshes: 0, failures: 0 };
  let chain: Promise<unknown> = Promise.resolve();
  const refresh = (): Promise<RefreshResult> => {
    // Serialised, so two refreshes cannot finish out of order and leave the older file in place.
    const run = chain.then(async () => {
      try {
        const next = checkDims(await readEmbeddings(opts.embeddingsFile), opts.models);
        const previous_version = st.table.version;
        Object.assign(st, { table: next, loadedAt: new Date().toISOString(), refreshes: st.refreshes + 1 });
        log(`serve: embeddings ${previous_version} → ${next.version} (${next.ids.length} products)`);
        return { version: next.version, count: next.ids.length, previous_version };
      } catch (e) {
        st.failures++;
        throw e;
      }
    });
    chain = run.catch(() => undefined);
    return run;
  };
  const summary = () => ({ version: st.table.version, count: st.table.ids.length, dim: st.table.dim, loaded_at: st.loadedAt, refreshes: st.refreshes, refresh_failures: st.failures });
  return { current: () => st.table, refresh, summary };
}

/** Requests per route and status, latency per route, requests in flight. */
function requestStats() {
  const counts = new Map<string, Map<number, number>>();
  const latency = new Map<string, LatencyHistogram>();
  const started = Date.now();
  const stats = {
    inFlight: 0,
    record(route: string, status: number, ms: number): void {
      const m = counts.get(route) ?? new Map<number, number>();
      m.set(status, (m.get(status) ?? 0) + 1);
      counts.set(route, m);
      const h = latency.get(route) ?? new LatencyHistogram();
      h.record(ms);
      latency.set(route, h);
    },
    snapshot() {
      const requests: Record<string, Record<string, number>> = {};
      for (const [route, m] of counts) requests[route] = Object.fromEntries([...m].sort((a, b) => a[0] - b[0]));
      const lat: Record<string, ReturnType<LatencyHistogram['summary']>> = {};
      for (const [route, h] of latency) lat[route] = h.summary();
      return { uptime_s: (Date.now() - started) / 1000, in_flight: stats.inFlight, requests, latency_ms: lat };
    },
  };
  return stats;
}

/** /admin/* is for whoever holds the token: compared as digests, in constant time. */
function adminGuard(opts: ServeOptions): { mode: 'token' | 'open' | 'disabled'; check(req: IncomingMessage): void } {
  if (opts.adminToken !== undefined && opts.adminToken.length < 16) throw new Error('serve: the admin token must be at least 16 characters');
  const digest = opts.adminToken === undefined ? null : createHash('sha256').update(opts.adminToken).digest();
  const check = (req: IncomingMessage): void => {
    if (digest === null) {
      if (opts.insecureAdmin) return;
      req.resume();
      throw new HttpError(403, 'admin routes are disabled: start the server with an admin token (CSRM_ADMIN_TOKEN or --admin-token-file) or --insecure-admin');
    }
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const given = createHash('sha256').update(m?.[1] ?? '').digest();
    if (!m || !timingSafeEqual(given, digest)) {
      req.resume();
      throw new HttpError(401, 'admin routes need `authorization: Bearer <token>`');
    }
  };
  return { mode: digest ? 'token' : opts.insecureAdmin ? 'open' : 'disabled', check };
}

/** What a request's handling needs. */
interface Service {
  opts: ServeOptions;
  log: (l: string) => void;
  threshold: number;
  limits: RequestLimits;
  maxBodyBytes: number;
  scorer: Scorer;
  served: ReturnType<typeof servedTable>;
  stats: ReturnType<typeof requestStats>;
  admin: ReturnType<typeof adminGuard>;
  draining: boolean;
}

function unknownIds(t: EmbeddingTable, ids: readonly string[]): void {
  const unknown = ids.filter((id) => !t.index.has(id));
  if (unknown.length > 0) throw new HttpError(404, `unknown product ids: ${unknown.length}`, { unknown_ids: unknown });
}

function metrics(s: Service) {
  const c = s.scorer.cache;
  return {
    ...s.stats.snapshot(),
    cache: { size: c.size, capacity: c.capacity, bytes: c.bytes, max_bytes: c.maxBytes, hits: c.hits, misses: c.misses, hit_rate: c.hitRate() },
    embeddings: s.served.summary(),
    threshold: s.threshold,
  };
}

async function refreshReply(s: Service): Promise<Reply> {
  try {
    return { status: 200, body: await s.served.refresh() };
  } catch (e) {
    const version = s.served.current().version;
    s.log(`serve: refresh from ${s.opts.embeddingsFile} failed, still serving ${version}: ${(e as Error).message}`);
    return { status: 500, body: { error: `refresh failed, still serving ${version} (the reason is in the server log)`, version } };
  }
}

/** /score and /rank: the table is read once, so a refresh never mixes two versions inside one response. */
async function scoringReply(s: Service, req: IncomingMessage, path: '/score' | '/rank'): Promise<Reply> {
  const t = s.served.current();
  const headers = { 'x-embeddings-version': t.version };
  const body = await readJsonBody(req, s.maxBodyBytes);
  if (path === '/score') {
    const r = parseScoreRequest(body, s.limits);
    unknownIds(t, r.product_ids);
    return { status: 200, body: s.scorer.score(t, await s.scorer.embedQuery(r.query), r.product_ids), headers };
  }
  const r = parseRankRequest(body, s.limits);
  unknownIds(t, r.candidate_ids);
  const { ranked, filtered } = rankCandidates(s.scorer.score(t, await s.scorer.embedQuery(r.query), r.candidate_ids), s.threshold);
  return { status: 200, body: { ranked: r.k === undefined ? ranked : ranked.slice(0, r.k), filtered_out: filtered.map((c) => c.product_id) }, headers };
}

async function dispatch(s: Service, req: IncomingMessage, path: string): Promise<Reply> {
  if (path.startsWith('/admin/')) s.admin.check(req);
  const method = ROUTES[path];
  if (method === undefined) throw new HttpError(404, `no route ${path}`);
  if (req.method !== method) throw new HttpError(405, `${path} takes ${method}`, { allow: method });
  switch (path) {
    case '/healthz': {
      discardBody(req);
      const t = s.served.current();
      return { status: s.draining ? 503 : 200, body: { status: s.draining ? 'shutting down' : 'ok', embeddings: { version: t.version, count: t.ids.length } } };
    }
    case '/metrics':
      discardBody(req);
      return { status: 200, body: metrics(s) };
    case '/admin/refresh':
      discardBody(req); // the file is the configured one; a request cannot point the server elsewhere
      return refreshReply(s);
    case '/score':
    case '/rank':
      return scoringReply(s, req, path);
  }
  throw new HttpError(404, `no route ${path}`);
}

/** An error as the client sees it: its status and detail for ours, a bare 500 for anything else (logged). */
function errorReply(s: Service, req: IncomingMessage, e: unknown): Reply {
  if (!(e instanceof HttpError)) {
    s.log(`serve: 500 on ${req.method} ${req.url}: ${(e as Error)?.stack ?? String(e)}`);
    return { status: 500, body: { error: 'internal error' } };
  }
  const reply: Reply = { status: e.status, body: { error: e.message, ...e.detail } };
  if (e.status === 405) reply.headers = { allow: String(e.detail.allow) };
  if (e.status === 401) reply.headers = { 'www-authenticate': 'Bearer' };
  // A body we stopped reading would otherwise be parsed as the next request.
  if (e.status === 413 || e.status === 415) reply.headers = { connection: 'close' };
  return reply;
}

async function handle(s: Service, req: IncomingMessage, res: ServerResponse, onIdle: () => void): Promise<void> {
  const t0 = performance.now();
  s.stats.inFlight++;
  let path = '?';
  let reply: Reply;
  try {
    path = new URL(req.url ?? '/', 'http://x').pathname;
    reply = await dispatch(s, req, path);
  } catch (e) {
    reply = errorReply(s, req, e);
  }
  try {
    sendJson(res, reply.status, reply.body, s.draining ? { ...reply.headers, connection: 'close' } : reply.headers);
  } catch (e) {
    s.log(`serve: could not send a response: ${(e as Error).message}`);
    res.destroy();
  } finally {
    s.stats.inFlight--;
    s.stats.record(path in ROUTES ? path : 'other', reply.status, performance.now() - t0);
    if (s.draining && s.stats.inFlight === 0) onIdle();
  }
}

/** Listens on host:port (port 0 picks a free one) and returns the URL. */
async function listen(server: Server, host: string, port: number): Promise<{ url: string; address: string }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  return { url: `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`, address: addr.address };
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const admin = adminGuard(opts);
  const s: Service = {
    opts, log, admin,
    threshold: opts.threshold ?? 0.5,
    limits: { maxIds: opts.maxIds ?? 1000, maxQueryChars: opts.maxQueryChars ?? 400 },
    maxBodyBytes: opts.maxBodyBytes ?? 1 << 20,
    scorer: new Scorer(opts.models, opts.cacheSize ?? 10_000, opts.cacheBytes ?? 64 * 2 ** 20),
    served: servedTable(checkDims(await readEmbeddings(opts.embeddingsFile), opts.models), opts, log),
    stats: requestStats(),
    draining: false,
  };
  let onIdle = () => {};
  const server = createServer((req, res) => {
    res.on('error', (e) => log(`serve: response error: ${e.message}`));
    handle(s, req, res, () => onIdle()).catch((e) => log(`serve: unhandled: ${String(e)}`));
  });
  server.on('clientError', (err, socket) => {
    // Malformed HTTP never reaches a handler; answer 400 where the socket still can be written.
    const body = JSON.stringify({ error: `malformed HTTP request: ${err.message}` });
    if (socket.writable)
      socket.end(`HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    else socket.destroy(err);
  });
  const { url, address } = await listen(server, opts.host ?? '127.0.0.1', opts.port ?? 0);
  const t = s.served.current();
  log(`serve: ${url} — ${t.ids.length} products, embeddings ${t.version}`);
  const warning = exposureWarning(url, address, admin.mode);
  if (warning) log(warning);

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      s.draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (s.stats.inFlight > 0) {
        await Promise.race([
          new Promise<void>((resolve) => (onIdle = resolve)),
          new Promise<void>((resolve) => setTimeout(resolve, opts.drainMs ?? 10_000).unref()),
        ]);
      }
      server.closeAllConnections();
      await closed;
      log('serve: stopped');
    })());

  return { url, close, refresh: s.served.refresh };
}
