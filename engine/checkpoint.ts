// Training checkpoints: everything a killed run needs to resume where it was — config, named
// tensors, optimizer moments, step, host RNG state and data cursor.
//
// File layout (little-endian):
//   0  magic "CSRMCKPT" (8 bytes)     8  version u32      12  reserved u32
//   16 structure length u64           24 tensor-bytes length u64
//   32 SHA-256 of everything after the 64-byte header (32 bytes)
//   64 structure: msgpack (msgpackr) of config, step, rng, cursor, meta and tensor descriptors
//      {shape, dtype, offset, byteLength}
//   .. tensor bytes: raw little-endian f32/i32/u32, concatenated
// Written atomically (temp file, fsync, rename). Loading checks magic, version, lengths and the
// checksum and throws naming the file, so a corrupt or truncated file is never read as garbage.
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { pack, unpack } from 'msgpackr';
import { flush, read, upload } from './runtime.ts';
import { packF16 } from './half.ts';
import { tensor } from './create.ts';
import { Tensor, type Backend, type DType } from './tensor.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { fileError, readFileNamed } from './read-file.ts';

const MAGIC = 'CSRMCKPT';
const VERSION = 1;
const HEADER = 64;

/** A tensor as stored on disk and returned by loadCheckpoint. */
export interface HostTensor {
  shape: number[];
  dtype: DType;
  data: Float32Array | Int32Array | Uint32Array;
}

export interface CheckpointIn {
  config: unknown;
  tensors: Record<string, Tensor>;
  optimizer?: { step: number; m: Tensor[]; v: Tensor[] };
  step: number;
  rng?: number[];
  cursor?: unknown;
  meta?: unknown;
}

export interface Checkpoint {
  config: unknown;
  tensors: Record<string, HostTensor>;
  optimizer?: { step: number; m: HostTensor[]; v: HostTensor[] };
  step: number;
  rng?: number[];
  cursor?: unknown;
  meta?: unknown;
}

interface Desc {
  shape: number[];
  dtype: DType;
  offset: number;
  byteLength: number;
}

function checkHostEndianness(): void {
  if (endianness() !== 'LE') throw new Error('checkpoint: big-endian hosts are not supported');
}

async function hostBytes(t: Tensor): Promise<Uint8Array> {
  if (t.disposed) throw new Error(`saveCheckpoint: ${t} is disposed`);
  const d = await read(t);
  const typed = d instanceof Float64Array ? Float32Array.from(d) : d;
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

/** Saves a checkpoint atomically. GPU tensors are read back (this waits for pending GPU work). */
export async function saveCheckpoint(path: string, c: CheckpointIn): Promise<void> {
  checkHostEndianness();
  if (!Number.isInteger(c.step) || c.step < 0) throw new Error(`saveCheckpoint(${path}): step ${c.step} is not a non-negative integer`);
  const blobs: Uint8Array[] = [];
  let offset = 0;
  const add = async (t: Tensor): Promise<Desc> => {
    const b = await hostBytes(t);
    blobs.push(b);
    const d: Desc = { shape: [...t.shape], dtype: t.dtype, offset, byteLength: b.byteLength };
    offset += b.byteLength;
    return d;
  };
  flush();
  const tensors: Record<string, Desc> = {};
  for (const [name, t] of Object.entries(c.tensors)) tensors[name] = await add(t);
  let optimizer: { step: number; m: Desc[]; v: Desc[] } | null = null;
  if (c.optimizer) {
    const m: Desc[] = [];
    const v: Desc[] = [];
    for (const t of c.optimizer.m) m.push(await add(t));
    for (const t of c.optimizer.v) v.push(await add(t));
    optimizer = { step: c.optimizer.step, m, v };
  }
  const struct = pack({
    config: c.config ?? null,
    step: c.step,
    rng: c.rng ?? null,
    cursor: c.cursor ?? null,
    meta: c.meta ?? null,
    tensors,
    optimizer,
  }) as Uint8Array;
  const hash = createHash('sha256');
  hash.update(struct);
  for (const b of blobs) hash.update(b);
  const header = new Uint8Array(HEADER);
  const dv = new DataView(header.buffer);
  header.set(Buffer.from(MAGIC, 'ascii'), 0);
  dv.setUint32(8, VERSION, true);
  dv.setBigUint64(16, BigInt(struct.byteLength), true);
  dv.setBigUint64(24, BigInt(offset), true);
  header.set(hash.digest(), 32);
  await writeFileAtomic(path, [header, struct, ...blobs]);
}

function fromBytes(file: Buffer, base: number, d: Desc, path: string, name: string): HostTensor {
  const n = d.shape.reduce((a, b) => a * b, 1);
  if (d.byteLength !== n * 4 || d.offset < 0 || base + d.offset + d.byteLength > file.byteLength) {
    throw new Error(`loadCheckpoint(${path}): tensor "${name}" descriptor is inconsistent (shape [${d.shape}], ${d.byteLength} bytes)`);
  }
  // copy: the file buffer's offsets need not be 4-byte aligned
  const bytes = new Uint8Array(file.buffer, file.byteOffset + base + d.offset, d.byteLength).slice();
  // f16 tensors are stored widened to f32 (read() returns them so; the values are exact)
  const data = d.dtype === 'f32' || d.dtype === 'f16' ? new Float32Array(bytes.buffer) : d.dtype === 'i32' ? new Int32Array(bytes.buffer) : new Uint32Array(bytes.buffer);
  return { shape: d.shape, dtype: d.dtype, data };
}

/** Opens a checkpoint, checks its fixed header and hands both to `use`; the file is closed after. */
async function withHeader<T>(path: string, use: (fh: FileHandle, header: Buffer) => Promise<T>): Promise<T> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw fileError(path, e, 'checkpoint');
  }
  try {
    const header = Buffer.alloc(HEADER);
    const { bytesRead } = await fh.read(header, 0, HEADER, 0);
    if (bytesRead < HEADER || header.subarray(0, 8).toString('ascii') !== MAGIC) throw new Error(`checkpoint ${path}: not a CSRM checkpoint (or truncated)`);
    return await use(fh, header);
  } finally {
    await fh.close();
  }
}

/**
 * The SHA-256 a checkpoint's header records for its contents (hex), read without loading the file:
 * an identity of the weights that costs 64 bytes of I/O. loadCheckpoint verifies it on load.
 */
export async function checkpointDigest(path: string): Promise<string> {
  return withHeader(path, async (_fh, header) => header.subarray(32, 64).toString('hex'));
}

/**
 * A checkpoint's config and meta (and its recorded digest) without its tensors: the header and the
 * structure only. The contents are not verified here (loadCheckpoint does that when the tensors are read).
 */
export async function readCheckpointMeta(path: string): Promise<{ config: unknown; meta: unknown; step: number; digest: string }> {
  return withHeader(path, async (fh, header) => {
    const structLen = Number(header.readBigUInt64LE(16));
    const size = (await fh.stat()).size;
    if (HEADER + structLen > size) throw new Error(`checkpoint ${path}: truncated file (${size} bytes, its structure alone ends at ${HEADER + structLen})`);
    const struct = Buffer.alloc(structLen);
    await fh.read(struct, 0, structLen, HEADER);
    const s = unpack(struct) as { config: unknown; meta: unknown; step: number };
    return { config: s.config, meta: s.meta ?? undefined, step: s.step, digest: header.subarray(32, 64).toString('hex') };
  });
}

/** Loads and verifies a checkpoint; throws an error naming the file if it is not intact. */
export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  checkHostEndianness();
  const file = await readFileNamed(path, 'checkpoint');
  const bad = (why: string) => new Error(`loadCheckpoint(${path}): ${why}`);
  if (file.byteLength < HEADER) throw bad(`truncated file (${file.byteLength} bytes, the header alone is ${HEADER})`);
  if (file.subarray(0, 8).toString('ascii') !== MAGIC) throw bad('bad magic: not a CSRM checkpoint');
  const dv = new DataView(file.buffer, file.byteOffset, HEADER);
  const version = dv.getUint32(8, true);
  if (version !== VERSION) throw bad(`unsupported version ${version} (this engine reads ${VERSION})`);
  const structLen = Number(dv.getBigUint64(16, true));
  const blobLen = Number(dv.getBigUint64(24, true));
  const want = HEADER + structLen + blobLen;
  if (file.byteLength < want) throw bad(`truncated file (${file.byteLength} bytes, header says ${want})`);
  if (file.byteLength > want) throw bad(`${file.byteLength - want} unexpected trailing bytes`);
  const digest = createHash('sha256').update(file.subarray(HEADER)).digest();
  if (!digest.equals(file.subarray(32, 64))) throw bad('checksum mismatch: the file is corrupt');
  const s = unpack(file.subarray(HEADER, HEADER + structLen)) as {
    config: unknown;
    step: number;
    rng: number[] | null;
    cursor: unknown;
    meta: unknown;
    tensors: Record<string, Desc>;
    optimizer: { step: number; m: Desc[]; v: Desc[] } | null;
  };
  const base = HEADER + structLen;
  const tensors: Record<string, HostTensor> = {};
  for (const [name, d] of Object.entries(s.tensors)) tensors[name] = fromBytes(file, base, d, path, name);
  const out: Checkpoint = { config: s.config, tensors, step: s.step };
  if (s.optimizer) {
    out.optimizer = {
      step: s.optimizer.step,
      m: s.optimizer.m.map((d, i) => fromBytes(file, base, d, path, `optimizer.m[${i}]`)),
      v: s.optimizer.v.map((d, i) => fromBytes(file, base, d, path, `optimizer.v[${i}]`)),
    };
  }
  if (s.rng) out.rng = s.rng;
  if (s.cursor !== null && s.cursor !== undefined) out.cursor = s.cursor;
  if (s.meta !== null && s.meta !== undefined) out.meta = s.meta;
  return out;
}

/** A new tensor (GPU by default) holding a loaded tensor's values. */
export function hostToTensor(h: HostTensor, opts: { backend?: Backend; requiresGrad?: boolean } = {}): Tensor {
  return tensor(h.data, h.shape, { dtype: h.dtype, backend: opts.backend, requiresGrad: opts.requiresGrad });
}

/**
 * Copies loaded values into existing tensors (parameters keep their identity). Every target must
 * be present with the same shape and dtype; with `strict` (default) no loaded name may be unused.
 */
export function loadTensorsInto(targets: Record<string, Tensor>, loaded: Record<string, HostTensor>, opts: { strict?: boolean } = {}): void {
  for (const [name, t] of Object.entries(targets)) {
    const h = loaded[name];
    if (!h) throw new Error(`loadTensorsInto: "${name}" is missing from the checkpoint`);
    if (h.shape.join(',') !== t.shape.join(',') || h.dtype !== t.dtype) {
      throw new Error(`loadTensorsInto: "${name}" is ${h.dtype}[${h.shape}] in the checkpoint but ${t} in the model`);
    }
  }
  if (opts.strict ?? true) {
    const extra = Object.keys(loaded).filter((n) => !(n in targets));
    if (extra.length) throw new Error(`loadTensorsInto: checkpoint tensors not in the model: ${extra.join(', ')}`);
  }
  for (const [name, t] of Object.entries(targets)) {
    const h = loaded[name]!;
    if (t.backend === 'cpu') (t.cpu as Float64Array | Int32Array | Uint32Array).set(h.data);
    else if (t.size > 0) upload(t, t.dtype === 'f16' ? packF16(h.data) : h.data); // f16 is held widened on the host
  }
}
