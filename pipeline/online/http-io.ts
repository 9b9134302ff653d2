// Reading JSON requests and writing JSON responses on node:http, with every failure turned into
// an HttpError that carries its status, so handlers never let a bad request reach a 500.
import type { IncomingMessage, ServerResponse } from 'node:http';

export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly detail: Record<string, unknown> = {}) {
    super(message);
  }
}

/** The media type without parameters, lower-cased ('' when absent). */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * The body parsed as JSON. 415 unless the content type is application/json; 413 when the declared
 * or actual length exceeds `maxBytes` (reading stops there); 400 for bytes that are not UTF-8 JSON.
 */
export function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    if (mediaType(req) !== 'application/json') {
      req.resume();
      return reject(new HttpError(415, `content type must be application/json, got '${req.headers['content-type'] ?? ''}'`));
    }
    const declared = Number(req.headers['content-length']);
    if (declared > maxBytes) {
      req.resume();
      return reject(new HttpError(413, `body of ${declared} bytes exceeds the limit of ${maxBytes}`));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const fail = (e: HttpError) => {
      if (done) return;
      done = true;
      reject(e);
    };
    req.on('data', (c: Buffer) => {
      if (done) return; // past the limit: the rest is drained and dropped
      size += c.length;
      if (size > maxBytes) fail(new HttpError(413, `body exceeds the limit of ${maxBytes} bytes`));
      else chunks.push(c);
    });
    req.on('error', (e) => fail(new HttpError(400, `request stream error: ${e.message}`)));
    req.on('aborted', () => fail(new HttpError(400, 'request aborted')));
    req.on('end', () => {
      if (done) return;
      done = true;
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
      } catch {
        return reject(new HttpError(400, 'body is not valid UTF-8'));
      }
      try {
        resolve(JSON.parse(text));
      } catch (e) {
        reject(new HttpError(400, `malformed JSON: ${(e as Error).message}`));
      }
    });
  });
}

/** Drains a body nobody reads, so a keep-alive connection stays usable. */
export function discardBody(req: IncomingMessage): void {
  req.resume();
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}
