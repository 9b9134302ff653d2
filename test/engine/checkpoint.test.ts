import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { randData, rng } from '../util.ts';

const r = rng(71);
const dir = await mkdtemp(join(tmpdir(), 'csrm-ckpt-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('checkpoints', () => {
  it('a killed run resumes where it was: params, AdamW state, step, RNG and cursor round-trip exactly', async () => {
    const w = E.keep(E.tensor(randData(r, 35), [5, 7], { requiresGrad: true }));
    const bias = E.keep(E.tensor(randData(r, 7), [7], { requiresGrad: true }));
    const idx = E.keep(E.tensor([3, -1, 7], [3], { dtype: 'i32' }));
    const opt = E.adamw([w, bias], { lr: 0.01 });
    const host = E.rng(5);
    const grads = [randData(r, 35), randData(r, 7)];
    const train = () => {
      E.zeroGrad([w, bias]);
      w.grad = E.keep(E.tensor(grads[0]!, [5, 7]));
      bias.grad = E.keep(E.tensor(grads[1]!, [7]));
      opt.step();
    };
    train();
    host.next();
    const path = join(dir, 'run.ckpt');
    await E.saveCheckpoint(path, {
      config: { d: 7, name: 'tiny' },
      tensors: { 'layer.w': w, 'layer.b': bias, idx },
      optimizer: opt.state(),
      step: 1,
      rng: host.state(),
      cursor: { epoch: 0, offset: 17 },
      meta: { note: 'test' },
    });
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]); // temp file renamed away
    // the original run continues one step
    train();
    const wantW = await E.toArray(w);
    const wantNext = host.next();
    // "killed": a fresh model and optimizer resumed from the file
    const c = await E.loadCheckpoint(path);
    expect(c.config).toEqual({ d: 7, name: 'tiny' });
    expect(c.step).toBe(1);
    expect(c.cursor).toEqual({ epoch: 0, offset: 17 });
    expect(c.meta).toEqual({ note: 'test' });
    expect(c.tensors.idx!.dtype).toBe('i32');
    expect(Array.from(c.tensors.idx!.data)).toEqual([3, -1, 7]);
    const w2 = E.keep(E.zeros([5, 7]));
    const b2 = E.keep(E.zeros([7]));
    w2.requiresGrad = b2.requiresGrad = true;
    E.loadTensorsInto({ 'layer.w': w2, 'layer.b': b2 }, c.tensors, { strict: false });
    const direct = E.hostToTensor(c.tensors['layer.w']!);
    expect(await E.toArray(w2)).toEqual(await E.toArray(direct));
    direct.dispose();
    const opt2 = E.adamw([w2, b2], { lr: 0.01 });
    opt2.load({ step: c.optimizer!.step, m: c.optimizer!.m.map((h) => h.data), v: c.optimizer!.v.map((h) => h.data) });
    E.zeroGrad([w2, b2]);
    w2.grad = E.keep(E.tensor(grads[0]!, [5, 7]));
    b2.grad = E.keep(E.tensor(grads[1]!, [7]));
    opt2.step();
    expect(await E.toArray(w2)).toEqual(wantW);
    expect(E.rng(c.rng!).next()).toBe(wantNext);
    E.zeroGrad([w, bias, w2, b2]);
    opt.dispose();
    opt2.dispose();
    for (const t of [w, bias, idx, w2, b2]) t.dispose();
  });
  it('float64 reference tensors are saved as f32', async () => {
    const t = E.tensor([0.1, 0.2], [2], { backend: 'cpu' });
    const path = join(dir, 'cpu.ckpt');
    await E.saveCheckpoint(path, { config: null, tensors: { t }, step: 0 });
    const c = await E.loadCheckpoint(path);
    expect(Array.from(c.tensors.t!.data)).toEqual(Array.from(Float32Array.from([0.1, 0.2])));
  });
  it('a corrupt byte, a truncated file, trailing bytes and a bad magic are clear errors naming the file', async () => {
    const t = E.tensor(randData(r, 100), [10, 10]);
    const path = join(dir, 'c.ckpt');
    await E.saveCheckpoint(path, { config: { a: 1 }, tensors: { t }, step: 3 });
    t.dispose();
    const good = await readFile(path);
    const flipped = Buffer.from(good);
    flipped[good.length - 5]! ^= 0x10; // one byte of tensor data
    await writeFile(path, flipped);
    await expect(E.loadCheckpoint(path)).rejects.toThrow(new RegExp(`loadCheckpoint\\(${path}\\): checksum mismatch`));
    await writeFile(path, good);
    await truncate(path, good.length - 3);
    await expect(E.loadCheckpoint(path)).rejects.toThrow(/c\.ckpt\): truncated file/);
    await truncate(path, 10);
    await expect(E.loadCheckpoint(path)).rejects.toThrow(/c\.ckpt\): truncated file \(10 bytes/);
    await writeFile(path, Buffer.concat([good, Buffer.from([0])]));
    await expect(E.loadCheckpoint(path)).rejects.toThrow(/c\.ckpt\): 1 unexpected trailing bytes/);
    const magic = Buffer.from(good);
    magic[0] = 0x41;
    await writeFile(path, magic);
    await expect(E.loadCheckpoint(path)).rejects.toThrow(/c\.ckpt\): bad magic/);
    await writeFile(path, good);
    expect((await E.loadCheckpoint(path)).step).toBe(3);
  });
  it('loadTensorsInto rejects a shape mismatch and missing names', async () => {
    const t = E.tensor([1, 2, 3, 4], [2, 2]);
    const path = join(dir, 's.ckpt');
    await E.saveCheckpoint(path, { config: null, tensors: { t }, step: 0 });
    const c = await E.loadCheckpoint(path);
    const u = E.zeros([4]);
    expect(() => E.loadTensorsInto({ t: u }, c.tensors)).toThrow(/loadTensorsInto: "t" is f32\[2,2\] in the checkpoint/);
    expect(() => E.loadTensorsInto({ q: t }, c.tensors)).toThrow(/"q" is missing/);
    t.dispose();
    u.dispose();
  });
  it('LoRA adapters save and load on their own, apart from the base', async () => {
    const ad = { 'model.layers.0.self_attn.q_proj': E.loraInit(12, 8, 4, 1), 'model.layers.0.self_attn.v_proj': E.loraInit(12, 8, 4, 2) };
    const path = join(dir, 'adapter.ckpt');
    await E.saveLoraAdapter(path, ad, { r: 4, alpha: 8, dropout: 0.05, targetModules: ['q_proj', 'v_proj'] });
    const back = await E.loadLoraAdapter(path);
    expect(back.config).toEqual({ r: 4, alpha: 8, dropout: 0.05, targetModules: ['q_proj', 'v_proj'] });
    expect(Object.keys(back.adapters).sort()).toEqual(Object.keys(ad).sort());
    for (const [k, { a, b }] of Object.entries(ad)) {
      expect(Array.from(back.adapters[k]!.a.data)).toEqual(await E.toArray(a));
      expect(back.adapters[k]!.b.shape).toEqual([8, 4]);
      E.release(a, b);
    }
    const base = E.tensor([1], [1]);
    const bp = join(dir, 'base.ckpt');
    await E.saveCheckpoint(bp, { config: {}, tensors: { base }, step: 0 });
    base.dispose();
    await expect(E.loadLoraAdapter(bp)).rejects.toThrow(/loadLoraAdapter\(.*base\.ckpt\): not a LoRA adapter file/);
  });
});
