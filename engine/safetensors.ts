// Hugging Face safetensors (https://huggingface.co/docs/safetensors): an 8-byte little-endian u64
// header length N, N bytes of UTF-8 JSON {name: {dtype, shape, data_offsets: [begin, end]},
// "__metadata__": {string: string}} padded with spaces to a multiple of 8, then the tensor bytes
// (offsets relative to the end of the header, contiguous, little-endian, row-major).
// F32, F16 and BF16 are read (converted to f32) and written (rounded to nearest even).
// Plus Llama/Qwen2-style checkpoint folders: config.json with model.safetensors or shards listed
// in model.safetensors.index.json. Mapping HF names to a model is the model's business.
import { mkdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { writeFileAtomic } from './atomic-file.ts';
import { fileError, readFileNamed } from './read-file.ts';
import { f16ToF32, f32ToF16 } from './half.ts';

export { f16ToF32, f32ToF16 };

export type StDtype = 'F32' | 'F16' | 'BF16';

export interface StTensor {
  dtype: StDtype;
  shape: number[];
  data: Float32Array;
}

export interface StTensorIn {
  shape: number[];
  data: ArrayLike<number>;
  dtype?: StDtype; // stored dtype (default F32)
}

const WIDTH: Record<StDtype, number> = { F32: 4, F16: 2, BF16: 2 };
const MAX_HEADER = 100_000_000; // the reference implementation's limit

// ---- bf16 conversions (f16 ones live in half.ts) -----------------------------------------------------------
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function bf16ToF32(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0]!;
}

/** f32 → bf16 bits, round to nearest even; NaN kept quiet. */
export function f32ToBf16(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  if ((b & 0x7f800000) === 0x7f800000 && b & 0x7fffff) return ((b >>> 16) | 0x40) & 0xffff;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

// ---- files --------------------------------------------------------------------------------------
export function parseSafetensors(buf: Uint8Array, path = '(buffer)'): { tensors: Record<string, StTensor>; metadata: Record<string, string> } {
  const bad = (why: string) => new Error(`readSafetensors(${path}): ${why}`);
  if (buf.byteLength < 8) throw bad(`file too short (${buf.byteLength} bytes)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n > MAX_HEADER || 8 + n > buf.byteLength) throw bad(`header length ${n} does not fit in a ${buf.byteLength}-byte file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + n)));
  } catch (e) {
    throw bad(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw bad('header is not a JSON object');
  const data = buf.subarray(8 + n);
  const meta = header.__metadata__ ?? {};
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta) || !Object.values(meta).every((v) => typeof v === 'string'))
    throw bad('"__metadata__" must be an object of strings');
  const metadata = meta as Record<string, string>;
  // Every entry is checked before any is used, so a malformed one gets its name in the error
  // instead of a TypeError from deep inside the reader.
  const entries: [string, { dtype: string; shape: number[]; data_offsets: [number, number] }][] = [];
  const offset = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = v as Record<string, unknown> | null;
    if (e === null || typeof e !== 'object' || Array.isArray(e)) throw bad(`tensor "${name}": header entry is ${JSON.stringify(v)}, expected {dtype, shape, data_offsets}`);
    if (typeof e.dtype !== 'string') throw bad(`tensor "${name}": dtype missing or not a string`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad(`tensor "${name}" has an invalid shape ${JSON.stringify(e.shape)}`);
    const o = e.data_offsets;
    if (!Array.isArray(o) || o.length !== 2 || !offset(o[0]) || !offset(o[1])) throw bad(`tensor "${name}": data_offsets ${JSON.stringify(o)} must be two non-negative integers`);
    entries.push([name, e as unknown as { dtype: string; shape: number[]; data_offsets: [number, number] }]);
  }
  // offsets must tile the data region exactly, as the reference implementation requires
  const sorted = [...entries].sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]);
  let pos = 0;
  for (const [name, e] of sorted) {
    const [b0, b1] = e.data_offsets ?? [];
    if (b0 !== pos || !(b1! >= b0!)) throw bad(`tensor "${name}" data_offsets [${e.data_offsets}] are not contiguous (expected start ${pos})`);
    pos = b1!;
  }
  if (pos !== data.byteLength) throw bad(`tensors cover ${pos} bytes but the data region has ${data.byteLength}`);
  const tensors: Record<string, StTensor> = {};
  for (const [name, e] of entries) {
    if (!Object.hasOwn(WIDTH, e.dtype)) throw bad(`tensor "${name}" has dtype ${e.dtype}; only F32, F16 and BF16 are supported`);
    const dtype = e.dtype as StDtype;
    const count = e.shape.reduce((a, b) => a * b, 1);
    const [b0, b1] = e.data_offsets;
    if (b1 - b0 !== count * WIDTH[dtype]) throw bad(`tensor "${name}" ${dtype}[${e.shape}] needs ${count * WIDTH[dtype]} bytes but has ${b1 - b0}`);
    const bytes = new DataView(data.buffer, data.byteOffset + b0, b1 - b0);
    const out = new Float32Array(count);
    if (dtype === 'F32') for (let i = 0; i < count; i++) out[i] = bytes.getFloat32(4 * i, true);
    else if (dtype === 'F16') for (let i = 0; i < count; i++) out[i] = f16ToF32(bytes.getUint16(2 * i, true));
    else for (let i = 0; i < count; i++) out[i] = bf16ToF32(bytes.getUint16(2 * i, true));
    tensors[name] = { dtype, shape: [...e.shape], data: out };
  }
  return { tensors, metadata };
}

/** Reads a .safetensors file; every tensor comes back as f32 data with its stored dtype. */
export async function readSafetensors(path: string): Promise<Record<string, StTensor>> {
  return parseSafetensors(await readFileNamed(path), path).tensors;
}

/** Reads a .safetensors file's tensors and its `__metadata__`. */
export async function readSafetensorsFile(path: string): Promise<{ tensors: Record<string, StTensor>; metadata: Record<string, string> }> {
  return parseSafetensors(await readFileNamed(path), path);
}

export function serializeSafetensors(tensors: Record<string, StTensorIn>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let pos = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name]!;
    const dtype = t.dtype ?? 'F32';
    if (!(dtype in WIDTH)) throw new Error(`writeSafetensors: tensor "${name}" has unsupported dtype ${dtype}`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`writeSafetensors: tensor "${name}" has ${t.data.length} values for shape [${t.shape}]`);
    const bytes = count * WIDTH[dtype];
    header[name] = { dtype, shape: t.shape, data_offsets: [pos, pos + bytes] };
    pos += bytes;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (json.byteLength % 8)) % 8; // the data region starts 8-byte aligned
  if (pad) json = Buffer.concat([json, Buffer.from(' '.repeat(pad), 'ascii')]);
  const out = new Uint8Array(8 + json.byteLength + pos);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let o = 8 + json.byteLength;
  for (const name of names) {
    const t = tensors[name]!;
    const dtype = t.dtype ?? 'F32';
    for (let i = 0; i < t.data.length; i++) {
      const x = t.data[i]!;
      if (dtype === 'F32') dv.setFloat32(o, x, true), (o += 4);
      else dv.setUint16(o, dtype === 'F16' ? f32ToF16(x) : f32ToBf16(x), true), (o += 2);
    }
  }
  return out;
}

/** Writes a .safetensors file atomically (temp file + rename). */
export async function writeSafetensors(path: string, tensors: Record<string, StTensorIn>, metadata?: Record<string, string>): Promise<void> {
  await writeFileAtomic(path, [serializeSafetensors(tensors, metadata)]);
}

// ---- Hugging Face checkpoint folders ----------------------------------------------------------
function parseJsonFile(path: string, bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** The shard a weight_map entry names, which must lie inside the checkpoint folder. */
function shardPath(dir: string, index: string, name: string, file: unknown): string {
  if (typeof file !== 'string' || file === '') throw new Error(`${index}: weight_map["${name}"] is ${JSON.stringify(file)}, expected a file name`);
  const root = resolve(dir);
  const p = resolve(root, file);
  const rel = relative(root, p);
  if (isAbsolute(file) || rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
    throw new Error(`${index}: weight_map["${name}"] = "${file}" points outside the checkpoint folder ${dir}`);
  return p;
}

/**
 * Reads config.json and the weights of a Llama/Qwen2-style folder (single file or sharded).
 * `sources` names the file each tensor came from. A tensor in two shards, or missing from the
 * shard the index names, is an error rather than a silent pick.
 */
export async function readHfCheckpoint(dir: string): Promise<{ config: Record<string, unknown>; tensors: Record<string, StTensor>; sources: Record<string, string> }> {
  const configPath = join(dir, 'config.json');
  const config = parseJsonFile(configPath, await readFileNamed(configPath));
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new Error(`${configPath}: expected a JSON object`);
  const indexPath = join(dir, 'model.safetensors.index.json');
  let expected: Map<string, string[]> | null = null; // shard path → the tensor names the index puts there
  let indexBytes: Buffer | null = null;
  try {
    indexBytes = await readFile(indexPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(indexPath, e);
  }
  if (indexBytes) {
    const index = parseJsonFile(indexPath, indexBytes) as { weight_map?: unknown };
    const map = index?.weight_map;
    if (map === null || typeof map !== 'object' || Array.isArray(map)) throw new Error(`${indexPath}: "weight_map" missing or not an object`);
    expected = new Map();
    for (const [name, file] of Object.entries(map as Record<string, unknown>)) {
      const p = shardPath(dir, indexPath, name, file);
      expected.set(p, [...(expected.get(p) ?? []), name]);
    }
  }
  const files = expected ? [...expected.keys()] : [join(dir, 'model.safetensors')];
  const tensors: Record<string, StTensor> = {};
  const sources: Record<string, string> = {};
  for (const f of files) {
    const got = parseSafetensors(await readFileNamed(f), f).tensors;
    for (const [name, t] of Object.entries(got)) {
      if (sources[name]) throw new Error(`${f}: tensor "${name}" is also in ${sources[name]}`);
      tensors[name] = t;
      sources[name] = f;
    }
    const missing = (expected?.get(f) ?? []).filter((n) => !got[n]);
    if (missing.length) throw new Error(`${indexPath}: ${missing.length} tensors (${missing.slice(0, 3).join(', ')}…) are not in ${f}, where the weight_map puts them`);
  }
  return { config: config as Record<string, unknown>, tensors, sources };
}

/** Writes config.json and model.safetensors (one file) so HF tools can load the folder; creates the folder. */
export async function writeHfCheckpoint(dir: string, config: Record<string, unknown>, tensors: Record<string, StTensorIn>, metadata: Record<string, string> = { format: 'pt' }): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw fileError(dir, e, 'cannot create the output folder');
  }
  await writeFileAtomic(join(dir, 'config.json'), [Buffer.from(JSON.stringify(config, null, 2) + '\n', 'utf8')]);
  await writeSafetensors(join(dir, 'model.safetensors'), tensors, metadata);
}
