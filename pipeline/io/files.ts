// Files under a run folder: every stage reads and writes here, so any stage can be rerun alone.
// Writes are atomic (temp file + fsync + rename): a killed process never leaves half a file.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { readFileNamedSync } from '../../engine/read-file.ts';

export function writeAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function writeJson(path: string, v: unknown): void {
  writeAtomic(path, JSON.stringify(v, null, 2) + '\n');
}

export function readJson<T>(path: string): T {
  if (!existsSync(path)) throw new Error(`missing file ${path}`);
  const text = readFileNamedSync(path).toString('utf8');
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${path}: invalid JSON (${(e as Error).message})`);
  }
}

export function readJsonIf<T>(path: string): T | null {
  return existsSync(path) ? readJson<T>(path) : null;
}
