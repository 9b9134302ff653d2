// Validation of the two scoring requests. Everything a client can get wrong is a 400 with a
// message naming the field; unknown fields are rejected too, so a typo such as "product_id" is
// not silently read as "no products".
import { HttpError } from './http-io.ts';

export interface RequestLimits {
  /** Longest query, in UTF-16 units (the data layer's limit for short strings is 400). */
  maxQueryChars: number;
  /** Most product ids in one request. */
  maxIds: number;
}

export interface ScoreRequest {
  query: string;
  product_ids: string[];
}

export interface RankRequest {
  query: string;
  candidate_ids: string[];
  /** How many ranked items to return; all when absent. */
  k?: number;
}

function object(body: unknown, fields: string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'body must be a JSON object');
  const unknown = Object.keys(body).filter((k) => !fields.includes(k));
  if (unknown.length > 0) throw new HttpError(400, `unknown fields: ${unknown.join(', ')}`, { unknown_fields: unknown });
  return body as Record<string, unknown>;
}

/** The query, trimmed (the cache key): non-empty and at most maxQueryChars. */
function query(v: unknown, limits: RequestLimits): string {
  if (typeof v !== 'string') throw new HttpError(400, "'query' must be a string");
  const q = v.trim();
  if (q === '') throw new HttpError(400, "'query' is empty");
  if (q.length > limits.maxQueryChars) throw new HttpError(400, `'query' has ${q.length} characters, the limit is ${limits.maxQueryChars}`);
  return q;
}

function ids(v: unknown, name: string, limits: RequestLimits): string[] {
  if (!Array.isArray(v)) throw new HttpError(400, `'${name}' must be an array of product ids`);
  if (v.length > limits.maxIds) throw new HttpError(400, `'${name}' has ${v.length} ids, the limit is ${limits.maxIds}`);
  if (!v.every((x) => typeof x === 'string' && x !== '')) throw new HttpError(400, `'${name}' must hold non-empty strings`);
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const x of v as string[]) (seen.has(x) ? dup : seen).add(x);
  if (dup.size > 0) throw new HttpError(400, `'${name}' repeats ids`, { duplicate_ids: [...dup] });
  return v as string[];
}

export function parseScoreRequest(body: unknown, limits: RequestLimits): ScoreRequest {
  const o = object(body, ['query', 'product_ids']);
  return { query: query(o.query, limits), product_ids: ids(o.product_ids, 'product_ids', limits) };
}

export function parseRankRequest(body: unknown, limits: RequestLimits): RankRequest {
  const o = object(body, ['query', 'candidate_ids', 'k']);
  const r: RankRequest = { query: query(o.query, limits), candidate_ids: ids(o.candidate_ids, 'candidate_ids', limits) };
  if (o.k !== undefined) {
    if (typeof o.k !== 'number' || !Number.isInteger(o.k) || o.k < 1) throw new HttpError(400, "'k' must be a positive integer");
    r.k = o.k;
  }
  return r;
}
