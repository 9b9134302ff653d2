// The content hash of every data file of a market folder, kept in its summary.json under "files"
// (path relative to the folder → sha256 and size). writeMarket records them; every record reader
// checks the file it reads against them. Parquet pages could carry CRCs, but hyparquet-writer
// 0.17 writes none and hyparquet checks none, and CSV and JSONL have no checksum at all: a flipped
// byte would be read as another value without a word. The hash catches that in every format.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { readFileNamedSync } from '../../../engine/read-file.ts';

export interface FileHash {
  sha256: string;
  bytes: number;
}

/** Relative path ('/'-separated) → hash. */
export type MarketManifest = Record<string, FileHash>;

export function fileHash(bytes: Uint8Array): FileHash {
  return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength };
}

/** The manifest of `files` (paths under `dir`), read back from disk as they were written. */
export function manifestOf(dir: string, files: readonly string[]): MarketManifest {
  const out: MarketManifest = {};
  for (const f of files) out[relative(dir, f).split(sep).join('/')] = fileHash(readFileNamedSync(f));
  return out;
}

function manifestIn(summaryPath: string): MarketManifest | null {
  if (!existsSync(summaryPath)) return null;
  let s: { files?: unknown };
  try {
    s = JSON.parse(readFileNamedSync(summaryPath).toString('utf8')) as { files?: unknown };
  } catch (e) {
    throw new Error(`${summaryPath}: invalid JSON (${(e as Error).message})`);
  }
  const files = s?.files;
  if (files === undefined) return null; // a market laid out by hand, or written before hashes were kept
  if (files === null || typeof files !== 'object' || Array.isArray(files)) throw new Error(`${summaryPath}: "files" must be an object of {sha256, bytes}`);
  return files as MarketManifest;
}

/**
 * Checks bytes read from `file` against the hash its market's summary.json records, when the file
 * sits in a market folder (`<market>/<kind>/<name>`) whose summary lists it; throws naming the file.
 */
export function verifyMarketFile(file: string, bytes: Uint8Array): void {
  const root = dirname(dirname(file));
  const summaryPath = join(root, 'summary.json');
  const manifest = manifestIn(summaryPath);
  const key = `${basename(dirname(file))}/${basename(file)}`;
  const want = manifest?.[key];
  if (!want) return;
  const got = fileHash(bytes);
  if (got.sha256 !== want.sha256 || got.bytes !== want.bytes)
    throw new Error(`${file}: content differs from what was written (sha256 ${got.sha256.slice(0, 12)}…, ${got.bytes} bytes; `
      + `${summaryPath} records ${want.sha256.slice(0, 12)}…, ${want.bytes} bytes): the file is corrupt or was edited. `
      + `Regenerate the market, or, for an intended edit, delete "${key}" from "files" in ${summaryPath}`);
}

/** Every file the summary lists must exist: a missing behaviour log or catalogue is not "empty". */
export function checkMarketComplete(dir: string): void {
  const summaryPath = join(dir, 'summary.json');
  const manifest = manifestIn(summaryPath);
  if (!manifest) return;
  const missing = Object.keys(manifest).filter((k) => !existsSync(join(dir, k)));
  if (missing.length) throw new Error(`${dir}: ${missing.length} files listed in summary.json are missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`);
}
