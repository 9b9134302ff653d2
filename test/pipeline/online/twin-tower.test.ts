// The distilled online model (section 3.5): eq. 4 wiring, the shared embedding / separate towers,
// the checkpoint round trip and serving through `csrm serve`'s startServer.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adamw, add, backward, read, scopeAsync, sumAll, zeroGrad } from '../../../engine/index.ts';
import { buildTokenBatch, disposeTwinTower, encodeTower, initTwinTower, towerParams, twinParams, type TwinTower, type TwinTowerConfig } from '../../../models/twin-tower.ts';
import { embedCatalogue, writeEmbeddings } from '../../../pipeline/online/embeddings-file.ts';
import { pairProbs } from '../../../pipeline/online/evaluate.ts';
import { startServer } from '../../../pipeline/online/serve.ts';
import { loadTower } from '../../../pipeline/online/tower-registry.ts';
import { linearDecayLr, trainTower } from '../../../pipeline/online/train-tower.ts';
import { saveTwinTower, twinTowerModel } from '../../../pipeline/online/twin-tower-model.ts';
import { loadTokenizer, type Tokenizer } from '../../../pipeline/tokenizer/tokenizer.ts';
import type { RelevanceRecord } from '../../../pipeline/data/schema.ts';
import { postJson } from './serve-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'csrm-twin-'));
let tok: Tokenizer;
const cfg = (): TwinTowerConfig => ({ vocabSize: tok.vocabSize, dim: 16, nLayers: 1, nHeads: 2, ffnDim: 32, outDim: 8, maxLen: 24, normEps: 1e-5, ropeTheta: 10000 });
const snapshot = async (ts: readonly { shape: readonly number[] }[]) => Promise.all(ts.map((t) => read(t as never).then((a) => Float64Array.from(a))));
const same = (a: Float64Array[], b: Float64Array[]) => a.every((x, i) => x.every((v, j) => v === b[i]![j]));

beforeAll(async () => {
  tok = await loadTokenizer();
});

const rec = (query: string, title: string): RelevanceRecord => ({
  query_id: query, product_id: title, pair_id: '', market: 'TW', language: 'zh-Hant', split: 'test', intent: 'unknown', query, query_brand: '',
  product_title: title, product_description: '', product_brand: '', product_category: '', rqa: [], label: 0, true_label: -1,
});

describe('twin tower: eq. 4 and parameter sharing', () => {
  let m: TwinTower;
  beforeAll(() => {
    m = initTwinTower(cfg(), 3);
  });
  afterAll(() => disposeTwinTower(m));

  it('the shared embedding is one tensor; each tower has its own other parameters', () => {
    const all = twinParams(m);
    expect(all.filter((t) => t === m.embed)).toHaveLength(1);
    const q = new Set(towerParams(m.query));
    expect(towerParams(m.item).some((t) => q.has(t))).toBe(false);
    expect(q.has(m.embed)).toBe(false);
    expect(new Set(all).size).toBe(all.length);
  });

  it('a loss on the query tower only moves the query tower and the shared embedding, never the item tower', async () => {
    const itemBefore = await snapshot(towerParams(m.item));
    const queryBefore = await snapshot(towerParams(m.query));
    const embBefore = await snapshot([m.embed]);
    const params = twinParams(m);
    const opt = adamw(params, { lr: 1e-2, weightDecay: 0 });
    await scopeAsync(async () => {
      zeroGrad(params);
      const b = buildTokenBatch([towerTokens('lake salt'), towerTokens('paint roller and brush')], tok.pad, 24);
      backward(sumAll(encodeTower(m, 'query', b)));
      for (const p of towerParams(m.item)) expect(p.grad).toBeNull();
      expect(m.embed.grad).not.toBeNull();
      opt.step();
    });
    opt.dispose();
    zeroGrad(params);
    expect(same(await snapshot(towerParams(m.item)), itemBefore)).toBe(true);
    expect(same(await snapshot(towerParams(m.query)), queryBefore)).toBe(false);
    expect(same(await snapshot([m.embed]), embBefore)).toBe(false);
  });

  it('both towers add their gradients into the one embedding table', async () => {
    const embGrad = async (sides: ('query' | 'item')[]) =>
      scopeAsync(async () => {
        zeroGrad(twinParams(m));
        const b = buildTokenBatch([towerTokens('running shoes')], tok.pad, 24);
        const losses = sides.map((s) => sumAll(encodeTower(m, s, b)));
        backward(losses.length === 1 ? losses[0]! : add(losses[0]!, losses[1]!));
        return Float64Array.from(await read(m.embed.grad!));
      });
    const gq = await embGrad(['query']);
    const gi = await embGrad(['item']);
    const both = await embGrad(['query', 'item']);
    zeroGrad(twinParams(m));
    let maxErr = 0;
    let maxAbs = 0;
    for (let j = 0; j < both.length; j++) {
      maxErr = Math.max(maxErr, Math.abs(both[j]! - gq[j]! - gi[j]!));
      maxAbs = Math.max(maxAbs, Math.abs(both[j]!));
    }
    expect(maxAbs).toBeGreaterThan(0);
    expect(maxErr).toBeLessThan(1e-5 * Math.max(1, maxAbs));
  });

  it('a KD step (eq. 4) moves p̂ = σ(s·cos) toward the teacher probability', async () => {
    const recs = [rec('lake salt', 'natural lake salt for cooking'), rec('lake salt', 'wall paint white 5l')];
    const teacher = [0.95, 0.05];
    const tower = twinTowerModel(m, tok, 8);
    const before = await pairProbs(tower, recs);
    const r = await trainTower(m, tok, recs.map((x, i) => ({ query: x.query, item: x.product_title, t: teacher[i]! })), { steps: 30, batchSize: 2, lr: 3e-3, scale: 8, seed: 1, quiet: true });
    const after = await pairProbs(tower, recs);
    for (let i = 0; i < 2; i++) expect(Math.abs(after[i]! - teacher[i]!)).toBeLessThan(Math.abs(before[i]! - teacher[i]!));
    expect(r.lastLoss).toBeLessThan(r.firstLoss);
  });

  it('the learning rate decays linearly from the peak to 1/80 of it', () => {
    expect(linearDecayLr(8e-5, 0, 101)).toBeCloseTo(8e-5, 12);
    expect(linearDecayLr(8e-5, 100, 101)).toBeCloseTo(1e-6, 12);
    expect(linearDecayLr(8e-5, 50, 101)).toBeCloseTo((8e-5 + 1e-6) / 2, 12);
  });
});

function towerTokens(s: string): number[] {
  return [tok.bos, ...tok.encode(s)];
}

describe('twin tower: checkpoint and serving', () => {
  it('round-trips through its checkpoint, loads as twin:PATH and serves /score', async () => {
    const m = initTwinTower(cfg(), 5);
    const path = join(dir, 'em.ckpt');
    await saveTwinTower(path, m, { scale: 8, task: 'em' });
    const orig = twinTowerModel(m, tok, 8);
    const loaded = await loadTower(`twin:${path}`);
    expect(loaded.dim).toBe(8);
    expect(loaded.scale).toBe(8);
    const qs = ['lake salt', '油漆', ''];
    const items = [{ id: 'a', text: 'natural lake salt for cooking' }, { id: 'b', text: '白色牆面漆 5公升' }];
    const [q0, q1] = [await orig.encodeQueries(qs), await loaded.encodeQueries(qs)];
    const [i0, i1] = [await orig.encodeItems(items), await loaded.encodeItems(items)];
    expect(q1.map((v) => Array.from(v))).toEqual(q0.map((v) => Array.from(v)));
    expect(i1.map((v) => Array.from(v))).toEqual(i0.map((v) => Array.from(v)));
    for (const v of [...q1, ...i1]) expect(Math.hypot(...v)).toBeCloseTo(1, 5);

    const models = { em: loaded, defect: await loadTower(`twin:${path}`) };
    const file = join(dir, 'emb.bin');
    writeEmbeddings(file, await embedCatalogue(models, items));
    const s = await startServer({ models, embeddingsFile: file, port: 0, log: () => {} });
    try {
      const r = await postJson(s.url, '/score', { query: 'lake salt', product_ids: ['a', 'b'] });
      expect(r.status).toBe(200);
      const body = r.json() as { product_id: string; em: number; defect: number }[];
      const want = await pairProbs(orig, items.map((it) => rec('lake salt', it.text)));
      expect(body.map((x) => x.product_id)).toEqual(['a', 'b']);
      body.forEach((x, i) => expect(x.em).toBeCloseTo(want[i]!, 5));
    } finally {
      await s.close();
      disposeTwinTower(m);
    }
  });
});
