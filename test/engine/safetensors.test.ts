import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { randData, rng } from '../util.ts';

const r = rng(81);
const dir = await mkdtemp(join(tmpdir(), 'csrm-st-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A safetensors file built by hand from a header object and raw bytes (independent of the writer). */
function handMade(header: object, data: number[]): Buffer {
  let json = JSON.stringify(header);
  while ((json.length + 0) % 8) json += ' ';
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, Buffer.from(json), Buffer.from(data)]);
}

describe('safetensors', () => {
  it('reads F32, F16 and BF16 from a hand-made file (known bit patterns)', async () => {
    const f32 = Buffer.alloc(8);
    f32.writeFloatLE(1.5, 0);
    f32.writeFloatLE(-0.25, 4);
    // F16: 1.0 = 0x3c00, 65504 = 0x7bff, 2^-24 = 0x0001, -2 = 0xc000; BF16: 1.0 = 0x3f80, -2 = 0xc000, 3.140625 = 0x4049
    const u16 = (xs: number[]) => xs.flatMap((x) => [x & 0xff, x >> 8]);
    const buf = handMade(
      {
        __metadata__: { format: 'pt' },
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        h: { dtype: 'F16', shape: [2, 2], data_offsets: [8, 16] },
        b: { dtype: 'BF16', shape: [3], data_offsets: [16, 22] },
      },
      [...f32, ...u16([0x3c00, 0x7bff, 0x0001, 0xc000]), ...u16([0x3f80, 0xc000, 0x4049])],
    );
    const path = join(dir, 'hand.safetensors');
    await writeFile(path, buf);
    const { tensors, metadata } = await E.readSafetensorsFile(path);
    expect(metadata).toEqual({ format: 'pt' });
    expect(Array.from(tensors.a!.data)).toEqual([1.5, -0.25]);
    expect(tensors.h!.shape).toEqual([2, 2]);
    expect(Array.from(tensors.h!.data)).toEqual([1, 65504, 2 ** -24, -2]);
    expect(tensors.b!.dtype).toBe('BF16');
    expect(Array.from(tensors.b!.data)).toEqual([1, -2, 3.140625]);
  });
  it('writes with an 8-byte aligned, space-padded JSON header and __metadata__, and reads back', async () => {
    const a = randData(r, 15);
    const path = join(dir, 'w.safetensors');
    await E.writeSafetensors(path, { 'x.weight': { shape: [3, 5], data: a }, 'y.bias': { shape: [3], data: [1, 2, 3], dtype: 'BF16' }, 'z': { shape: [2], data: [0.1, -7], dtype: 'F16' } }, { format: 'pt' });
    const raw = await readFile(path);
    const n = Number(raw.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const header = JSON.parse(raw.subarray(8, 8 + n).toString('utf8'));
    expect(header.__metadata__).toEqual({ format: 'pt' });
    expect(header['x.weight']).toEqual({ dtype: 'F32', shape: [3, 5], data_offsets: [0, 60] });
    expect(header['y.bias'].data_offsets).toEqual([60, 66]);
    expect(raw.length).toBe(8 + n + 70);
    const back = await E.readSafetensors(path);
    expect(Array.from(back['x.weight']!.data)).toEqual(Array.from(Float32Array.from(a)));
    expect(Array.from(back['y.bias']!.data)).toEqual([1, 2, 3]);
    expect(back.z!.data[0]).toBeCloseTo(0.1, 3);
    expect(back.z!.data[1]).toBe(-7);
  });
  it('rounds to nearest even into F16 and BF16 (ties, subnormals, overflow, NaN)', () => {
    expect(E.f32ToF16(1)).toBe(0x3c00);
    expect(E.f32ToF16(65504)).toBe(0x7bff);
    expect(E.f32ToF16(65520)).toBe(0x7c00); // rounds up to Inf
    expect(E.f32ToF16(2 ** -24)).toBe(0x0001);
    expect(E.f32ToF16(2 ** -25)).toBe(0x0000); // tie to even (0)
    expect(E.f32ToF16(3 * 2 ** -25)).toBe(0x0002); // tie 1.5 → 2
    expect(E.f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie between 1 and 1+2^-10 → even
    expect(E.f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(E.f32ToF16(-0)).toBe(0x8000);
    expect(E.f16ToF32(E.f32ToF16(NaN))).toBeNaN();
    expect(E.f32ToBf16(1 + 2 ** -8)).toBe(0x3f80); // tie → even
    expect(E.f32ToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(E.bf16ToF32(E.f32ToBf16(NaN))).toBeNaN();
    expect(E.f32ToBf16(Infinity)).toBe(0x7f80);
    // every f16 value survives f16 → f32 → f16
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && h & 0x3ff) continue; // NaNs
      if (E.f32ToF16(E.f16ToF32(h)) !== h) throw new Error(`f16 round trip fails for 0x${h.toString(16)}`);
    }
  });
  it('rejects malformed files with errors naming the file', async () => {
    const p = join(dir, 'bad.safetensors');
    await writeFile(p, handMade({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, [1, 2, 3]));
    await expect(E.readSafetensors(p)).rejects.toThrow(/readSafetensors\(.*bad\.safetensors\): tensors cover 8 bytes but the data region has 3/);
    await writeFile(p, handMade({ a: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, [0, 0, 0, 0, 0, 0, 0, 0]));
    await expect(E.readSafetensors(p)).rejects.toThrow(/tensor "a" has dtype I64/);
    await writeFile(p, handMade({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, [0, 0, 0, 0, 0, 0, 0, 0]));
    await expect(E.readSafetensors(p)).rejects.toThrow(/tensor "a" F32\[3\] needs 12 bytes but has 8/);
    const huge = Buffer.alloc(16);
    huge.writeBigUInt64LE(1000n);
    await writeFile(p, huge);
    await expect(E.readSafetensors(p)).rejects.toThrow(/header length 1000 does not fit/);
  });
  it('a Llama/Qwen2-style folder (config.json, sharded index) round-trips into GPU tensors', async () => {
    const cfg = { architectures: ['LlamaForCausalLM'], hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, vocab_size: 11 };
    const q = randData(r, 64);
    const emb = randData(r, 88);
    const d1 = join(dir, 'hf1');
    await mkdir(d1);
    await E.writeHfCheckpoint(d1, cfg, {
      'model.embed_tokens.weight': { shape: [11, 8], data: emb, dtype: 'BF16' },
      'model.layers.0.self_attn.q_proj.weight': { shape: [8, 8], data: q },
    });
    const one = await E.readHfCheckpoint(d1);
    expect(one.config).toEqual(cfg);
    expect(one.tensors['model.embed_tokens.weight']!.dtype).toBe('BF16');
    // sharded: two files listed by model.safetensors.index.json
    const d2 = join(dir, 'hf2');
    await mkdir(d2);
    await writeFile(join(d2, 'config.json'), JSON.stringify(cfg));
    await E.writeSafetensors(join(d2, 'model-00001-of-00002.safetensors'), { 'model.layers.0.self_attn.q_proj.weight': { shape: [8, 8], data: q } });
    await E.writeSafetensors(join(d2, 'model-00002-of-00002.safetensors'), { 'model.embed_tokens.weight': { shape: [11, 8], data: emb } });
    await writeFile(
      join(d2, 'model.safetensors.index.json'),
      JSON.stringify({ metadata: {}, weight_map: { 'model.layers.0.self_attn.q_proj.weight': 'model-00001-of-00002.safetensors', 'model.embed_tokens.weight': 'model-00002-of-00002.safetensors' } }),
    );
    const two = await E.readHfCheckpoint(d2);
    const st = two.tensors['model.layers.0.self_attn.q_proj.weight']!;
    const t = E.tensor(st.data, st.shape);
    expect(await E.toArray(t)).toEqual(Array.from(Float32Array.from(q)));
    t.dispose();
    expect(Object.keys(two.tensors).sort()).toEqual(Object.keys(one.tensors).sort());
  });
});
