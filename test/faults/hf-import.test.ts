// Fault injection, safetensors and Hugging Face folders (issue 15, case 7): a weight_map leaving
// the folder, malformed header entries, a config that would allocate more than the files hold, NaN
// weights, export into a folder that does not exist. Each fails before anything is allocated or
// loaded, with the file named; export creates its folder.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSafetensors, readHfCheckpoint, serializeSafetensors, writeHfCheckpoint } from '../../engine/safetensors.ts';
import { makeConfig } from '../../models/llama-config.ts';
import { configToHf, exportHf, importHf } from '../../models/hf.ts';
import { disposeLlama, initLlama, namedTensors, type Llama } from '../../models/llama.ts';
import { read } from '../../engine/index.ts';

const root = mkdtempSync(join(tmpdir(), 'csrm-hf-faults-'));
let m: Llama;
let weights: Record<string, { shape: number[]; data: Float32Array }>;

beforeAll(async () => {
  m = initLlama(makeConfig('tiny', 37, { dim: 32, nHeads: 2, nKvHeads: 1, ffnDim: 48, nLayers: 1 }), 7);
  weights = {};
  for (const [k, t] of Object.entries(namedTensors(m, 'base'))) weights[k] = { shape: [...t.shape], data: Float32Array.from(await read(t)) };
});
afterAll(() => disposeLlama(m));

/** A folder with config.json, the weights split over two shards, and the index naming them. */
function sharded(name: string, weightMap?: (names: string[]) => Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(configToHf(m.config)));
  const names = Object.keys(weights);
  const half = Math.ceil(names.length / 2);
  const shards = [names.slice(0, half), names.slice(half)];
  shards.forEach((ns, i) => writeFileSync(join(dir, `model-0000${i + 1}.safetensors`), serializeSafetensors(Object.fromEntries(ns.map((n) => [n, weights[n]!])))));
  const map = weightMap ? weightMap(names) : Object.fromEntries(names.map((n, i) => [n, `model-0000${i < half ? 1 : 2}.safetensors`]));
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: map }));
  return dir;
}

describe('weight_map paths stay inside the model folder', () => {
  it('a sharded folder imports (control)', async () => {
    const back = await importHf(sharded('ok'));
    disposeLlama(back);
  });

  it('a shard outside the folder is refused, even a valid one', async () => {
    // a complete, valid checkpoint one level up: followed, it would import without a word
    const outside = sharded('outside');
    writeFileSync(join(root, 'elsewhere.safetensors'), serializeSafetensors(weights));
    const index = join(outside, 'model.safetensors.index.json');
    writeFileSync(index, JSON.stringify({ weight_map: Object.fromEntries(Object.keys(weights).map((n) => [n, '../elsewhere.safetensors'])) }));
    await expect(importHf(outside)).rejects.toThrow(`${index}: weight_map["model.embed_tokens.weight"] = "../elsewhere.safetensors" points outside the checkpoint folder`);
    for (const evil of ['../../../../etc/passwd', '/etc/passwd']) {
      writeFileSync(index, JSON.stringify({ weight_map: { 'model.norm.weight': evil } }));
      await expect(readHfCheckpoint(outside)).rejects.toThrow(/points outside the checkpoint folder/);
    }
  });

  it('a tensor in two shards, or missing from the shard the index names, is an error', async () => {
    const dir = sharded('dup');
    writeFileSync(join(dir, 'model-00002.safetensors'), serializeSafetensors(weights)); // holds shard 1's tensors too
    await expect(readHfCheckpoint(dir)).rejects.toThrow(/is also in .*model-00001\.safetensors/);
    const moved = sharded('moved', (names) => Object.fromEntries(names.map((n) => [n, 'model-00001.safetensors'])));
    await expect(readHfCheckpoint(moved)).rejects.toThrow(/are not in .*model-00001\.safetensors, where the weight_map puts them/);
  });
});

describe('header entries are validated before use', () => {
  const header = (entries: Record<string, unknown>) => {
    let json = JSON.stringify(entries);
    while (json.length % 8) json += ' ';
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([len, Buffer.from(json), Buffer.alloc(8)]);
  };
  const cases: [string, unknown, RegExp][] = [
    ['null entry', null, /tensor "w": header entry is null/],
    ['a number', 3, /tensor "w": header entry is 3/],
    ['no offsets', { dtype: 'F32', shape: [2] }, /tensor "w": data_offsets undefined must be two non-negative integers/],
    ['negative offset', { dtype: 'F32', shape: [2], data_offsets: [-8, 0] }, /data_offsets \[-8,0\] must be two non-negative integers/],
    ['dtype not a string', { dtype: 4, shape: [2], data_offsets: [0, 8] }, /tensor "w": dtype missing/],
    ['dtype from the prototype', { dtype: 'toString', shape: [2], data_offsets: [0, 8] }, /has dtype toString; only F32/],
  ];
  for (const [what, entry, msg] of cases) {
    it(what, () => {
      expect(() => parseSafetensors(header({ w: entry }), 'x.safetensors')).toThrow(msg);
      expect(() => parseSafetensors(header({ w: entry }), 'x.safetensors')).toThrow(/^readSafetensors\(x\.safetensors\)/);
    });
  }
  it('__metadata__ must be strings', () => {
    expect(() => parseSafetensors(header({ __metadata__: { a: 1 }, w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }), 'x')).toThrow(/__metadata__/);
  });
});

describe('config.json is bounded by the weights before anything is allocated', () => {
  it('intermediate_size 1e12 is refused with the numbers, not a RangeError', async () => {
    const dir = sharded('huge');
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...cfg, intermediate_size: 1e12 }));
    await expect(importHf(dir)).rejects.toThrow(new RegExp(`${dir}/config.json describes \\d+ weights \\(hidden_size 32, intermediate_size 1000000000000.*but the safetensors hold \\d+`));
  });
});

describe('non-finite weights', () => {
  it('are refused at import, naming the file and tensor; allowNonFinite imports them', async () => {
    const dir = join(root, 'nan');
    const bad = { ...weights, 'model.layers.0.mlp.up_proj.weight': { ...weights['model.layers.0.mlp.up_proj.weight']!, data: weights['model.layers.0.mlp.up_proj.weight']!.data.slice() } };
    bad['model.layers.0.mlp.up_proj.weight'].data[5] = NaN;
    bad['model.layers.0.mlp.up_proj.weight'].data[9] = Infinity;
    await writeHfCheckpoint(dir, configToHf(m.config), bad);
    await expect(importHf(dir)).rejects.toThrow(`${join(dir, 'model.safetensors')}: tensor "model.layers.0.mlp.up_proj.weight" has 2 non-finite values (first at index 5: NaN)`);
    const allowed = await importHf(dir, { allowNonFinite: true });
    expect(Number.isNaN((await read(allowed.layers[0]!.wUp))[5])).toBe(true);
    disposeLlama(allowed);
  });
});

describe('export-hf', () => {
  it('creates a missing output folder', async () => {
    const dir = join(root, 'new', 'nested', 'hf');
    await exportHf(m, dir);
    const { tensors } = await readHfCheckpoint(dir);
    expect(Array.from(tensors['model.norm.weight']!.data)).toEqual(Array.from(weights['model.norm.weight']!.data));
  });

  it('a folder that cannot be created is named, not the temp file', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    const err = await exportHf(m, join(file, 'hf')).catch((e: Error) => e);
    expect(String(err)).toContain(`cannot create the output folder ${join(file, 'hf')}`);
    expect(String(err)).not.toMatch(/\.tmp/);
  });
});
