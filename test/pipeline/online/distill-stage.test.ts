// The distill-online stage on the tiny market: KD candidate sampling (top M impressed + top N from
// the BM25 stand-in for EBR, no duplicates) and one small end-to-end run with an untrained teacher
// LLM, checking the result file, the served checkpoints and that a rerun resumes from result.json.
import { existsSync, mkdtempSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { saveCheckpoint } from '../../../engine/index.ts';
import { makeConfig, paperLora } from '../../../models/llama-config.ts';
import { addLora, disposeLlama, initLlama, namedTensors } from '../../../models/llama.ts';
import { generateMarket } from '../../../pipeline/data/market/generate.ts';
import { writeMarket } from '../../../pipeline/data/market/write.ts';
import { impressedByQuery, KD_SIZES, sampleKdPairs } from '../../../pipeline/online/kd-data.ts';
import { kdRecords } from '../../../pipeline/online/kd-records.ts';
import { loadTower } from '../../../pipeline/online/tower-registry.ts';
import { bm25Retriever, runOnlineStage } from '../../../pipeline/stages/online-stage.ts';
import { saveBase } from '../../../pipeline/stages/model-io.ts';
import { loadTokenizer } from '../../../pipeline/tokenizer/tokenizer.ts';

const market = generateMarket({ preset: 'tiny', seed: 1 });
const T = market.target.market;

describe('distill-online on the tiny market', () => {
  it('KD candidates: top M impressed first, then BM25 products, no duplicates, at most M + N, all in the catalogue', async () => {
    const sizes = KD_SIZES.tiny;
    const cat = market.catalogue.filter((c) => c.market === T);
    const logs = market.behaviour.filter((b) => b.market === T);
    const pairs = await sampleKdPairs(logs, bm25Retriever(cat, sizes.M + sizes.N), sizes);
    const queries = impressedByQuery(logs);
    expect(pairs.length).toBeGreaterThan(queries.length * sizes.M);
    for (const q of queries) {
      const mine = pairs.filter((p) => p.query_id === q.query_id);
      expect(new Set(mine.map((p) => p.product_id)).size).toBe(mine.length);
      expect(mine.length).toBeLessThanOrEqual(sizes.M + sizes.N);
      expect(mine.filter((p) => p.source === 'impressed').map((p) => p.product_id)).toEqual(q.impressed.slice(0, sizes.M));
    }
    // a query can share no term with any title (e.g. an alias), so BM25 adds nothing there — but not in general
    const withEbr = queries.filter((q) => pairs.some((p) => p.query_id === q.query_id && p.source === 'ebr')).length;
    expect(withEbr).toBeGreaterThan(queries.length / 2);
    const recs = kdRecords(pairs, cat, market.target.language);
    const title = new Map(cat.map((c) => [c.product_id, c.product_title]));
    recs.forEach((r, i) => expect(r.product_title).toBe(title.get(pairs[i]!.product_id)));
    expect(() => kdRecords([{ ...pairs[0]!, product_id: 'nope' }], cat, 'x')).toThrow(/product nope is not in the TW catalogue/);
  });

  it('runs end to end with a small teacher, writes servable towers, and a rerun resumes', async () => {
    const run = mkdtempSync(join(tmpdir(), 'csrm-online-'));
    const data = join(run, 'data');
    writeMarket(market, data);
    const tok = await loadTokenizer();
    const m = initLlama(makeConfig('tiny', tok.vocabSize), 3);
    await saveBase(join(run, 'base.ckpt'), m);
    addLora(m, paperLora(m.config.dim), 4);
    mkdirSync(join(run, 'sd-1'));
    await saveCheckpoint(join(run, 'sd-1', 'best.ckpt'), { config: m.config, tensors: namedTensors(m, 'lora'), step: 0 });
    disposeLlama(m);
    const opts = {
      runDir: run, data, base: join(run, 'base.ckpt'), teacher: 'sd-1', marketPreset: 'tiny' as const, maxLen: 112, quiet: true, log: () => {},
      online: { maxQueries: 3, steps: 4, batchSize: 8, model: { dim: 16, nLayers: 1, nHeads: 2, ffnDim: 32, outDim: 16, maxLen: 24 } },
    };
    const r = await runOnlineStage(opts);
    expect(r.queries).toBe(3);
    expect(r.pairs.total).toBeGreaterThan(3 * KD_SIZES.tiny.M);
    expect(r.testPairs).toBe(market.relevance.filter((x) => x.market === T && x.split === 'test').length);
    expect(r.testQueries).toBeGreaterThan(0);
    for (const k of ['baseline', 'teacher', 'distilled'] as const) {
      const rk = r.ranking[k];
      expect(r.table3[k].exactMatch.n).toBe(r.testPairs);
      expect(r.table3[k].defect.n).toBe(r.testPairs);
      // every model ranks the same held-out queries; the shares count whole queries
      expect(rk.queries, k).toBe(r.testQueries);
      for (const share of [rk.em1, rk.defect5, rk.empty]) expect(share * rk.queries).toBeCloseTo(Math.round(share * rk.queries), 9);
      expect(rk.defect5 + rk.defectRate5).toBeCloseTo(1, 12);
      expect(rk.em1, `${k}: an empty page has no exact item on top`).toBeLessThanOrEqual(1 - rk.empty + 1e-12);
    }
    const sum = r.teacherMeans.p_irr + r.teacherMeans.p_sub + r.teacherMeans.p_exact;
    expect(sum).toBeCloseTo(1, 4);
    for (const f of Object.values(r.files)) expect(existsSync(f)).toBe(true);
    const em = await loadTower(`twin:${r.files.em}`);
    expect(em.dim).toBe(16);
    const mtime = statSync(r.files.em).mtimeMs;
    const again = await runOnlineStage(opts);
    expect(again).toEqual(r);
    expect(statSync(r.files.em).mtimeMs).toBe(mtime);
  });
});
