// Test helpers for the serve contract tests: a raw HTTP client (headers and bytes under the test's
// control) and a tower wrapper that holds query encoding until released, to keep requests in flight.
import { request } from 'node:http';
import type { TowerModel } from '../../../pipeline/online/types.ts';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): any;
}

export function http(
  url: string, method: string, path: string, body?: string | Buffer | Buffer[], headers: Record<string, string> = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // A body without a length on a GET would run into the next request: declare it, as clients do.
    const sized = body !== undefined && !Array.isArray(body) ? { 'content-length': String(Buffer.byteLength(body)), ...headers } : headers;
    const req = request(`${url}${path}`, { method, headers: sized, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (Array.isArray(body)) for (const b of body) req.write(b);
    else if (body !== undefined) req.write(body);
    req.end();
  });
}

export const postJson = (url: string, path: string, body: unknown) =>
  http(url, 'POST', path, JSON.stringify(body), { 'content-type': 'application/json' });

/** Delegates to `inner`; query encoding waits while the gate is closed. */
export function gated(inner: TowerModel): TowerModel & { close(): void; open(): void; waiting(): number } {
  let gate: Promise<void> = Promise.resolve();
  let release = () => {};
  let waiting = 0;
  return {
    dim: inner.dim,
    scale: inner.scale,
    encodeItems: (items) => inner.encodeItems(items),
    encodeQueries: async (texts) => {
      waiting++;
      await gate;
      waiting--;
      return inner.encodeQueries(texts);
    },
    close() {
      gate = new Promise((r) => (release = r));
    },
    open() {
      release();
    },
    waiting: () => waiting,
  };
}

export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}
