// Reading a whole file with an error that names it: Node's EISDIR and EACCES messages carry no
// path ("illegal operation on a directory, read"), which leaves the user guessing which input was wrong.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

const REASONS: Record<string, string> = {
  ENOENT: 'not found',
  EISDIR: 'is a directory, expected a file',
  EACCES: 'permission denied',
  ENOTDIR: 'a parent of this path is not a directory',
};

/** The error of a failed read, as `<path>: <reason>` (what: an optional noun, e.g. "base model"). */
export function fileError(path: string, e: unknown, what?: string): Error {
  const code = (e as NodeJS.ErrnoException)?.code ?? '';
  const reason = REASONS[code] ?? (e as Error)?.message ?? String(e);
  return new Error(`${what ? `${what} ` : ''}${path}: ${reason}`);
}

export async function readFileNamed(path: string, what?: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw fileError(path, e, what);
  }
}

export function readFileNamedSync(path: string, what?: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw fileError(path, e, what);
  }
}
