// Crash-safe file writes: write a temp file next to the target, fsync it, rename it over the
// target (atomic on POSIX file systems), fsync the directory. A killed writer leaves either the old
// file or the new one, never a half-written file under the real name.
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileError } from './read-file.ts';

export async function writeFileAtomic(path: string, chunks: Uint8Array[]): Promise<void> {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  // The temp file's name means nothing to the user: a failure to create it names the target.
  const fh = await open(tmp, 'w').catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`cannot write ${path}: folder ${dirname(path)} does not exist`);
    throw fileError(path, e, 'cannot write');
  });
  try {
    for (const c of chunks) {
      let off = 0;
      while (off < c.byteLength) off += (await fh.write(c, off, c.byteLength - off)).bytesWritten;
    }
    await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  // make the rename itself durable
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } catch {
    // some file systems do not support fsync on directories
  } finally {
    await dir.close();
  }
}
