// `csrm rqa` end to end on the tiny market with a random tiny base and a few steps: rqa.jsonl covers
// every relevance record of both markets, never hands a record its judged product's title, loads
// back through the SFT stage's loader, and retrieval accuracy is written for BM25 and EBR.
// Measured (tiny market, 60-step pretrained base, RQA_DEFAULTS: 200 ranker / 300 EBR steps):
// BM25 top-1 48.8% / any@3 68.3%, EBR top-1 34.1% / any@3 68.3% on 41 TW queries; on the 3 alias
// queries both 0% — EBR does not beat BM25 at this size.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeConfig } from '../../../models/llama-config.ts';
import { disposeLlama, initLlama } from '../../../models/llama.ts';
import { generateMarket } from '../../../pipeline/data/market/generate.ts';
import { writeMarket } from '../../../pipeline/data/market/write.ts';
import { loadMarketData } from '../../../pipeline/stages/market-data.ts';
import { saveBase } from '../../../pipeline/stages/model-io.ts';
import { rqaConfig, runRqaStage } from '../../../pipeline/stages/rqa-stage.ts';
import { withRqa } from '../../../pipeline/stages/sft-stage.ts';
import { loadTokenizer } from '../../../pipeline/tokenizer/tokenizer.ts';

describe('csrm rqa on the tiny market', () => {
  it('writes rqa.jsonl for all records without the judged product, and retrieval accuracy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'csrm-rqa-'));
    const data = join(dir, 'data');
    writeMarket(generateMarket({ preset: 'tiny', seed: 1 }), data);
    const tok = await loadTokenizer();
    const m = initLlama(makeConfig('tiny', tok.vocabSize), 5);
    const base = join(dir, 'base.ckpt');
    await saveBase(base, m);
    disposeLlama(m);
    const cfg = rqaConfig({ ranker: { steps: 6, batchSize: 8, lr: 0.003, negativesPerPositive: 2 }, ebr: { steps: 10, batchSize: 16, negatives: 16, dim: 32, lr: 0.01, temperature: 0.1, mseWeight: 1 } });
    const out = join(dir, 'rqa');
    const r = await runRqaStage({ data, base, out, star: false, maxLen: 112, cfg, quiet: true });
    const d = await loadMarketData(data);
    const all = Object.values(d.relevance).flatMap((s) => [...s.train, ...s.dev, ...s.test]);
    expect(r.records).toBe(all.length);
    expect(r.accuracy.map((a) => a.name)).toEqual(['BM25', 'EBR']);
    expect(existsSync(join(out, 'retrieval-accuracy.json'))).toBe(true);
    expect(readFileSync(join(out, 'rqa.jsonl'), 'utf8').trim().split('\n')).toHaveLength(all.length);
    // the loader the SFT stage uses puts the titles back on the records
    const loaded = await withRqa(all, out);
    expect(loaded.filter((x) => x.rqa.length === cfg.k).length).toBeGreaterThan(0.9 * all.length);
    for (const x of loaded) {
      expect(x.rqa).not.toContain(x.product_title);
      expect(new Set(x.rqa).size).toBe(x.rqa.length);
    }
    // a rerun is skipped
    const again = await runRqaStage({ data, base, out, star: false, maxLen: 112, cfg, quiet: true });
    expect(again.seconds).toBe(r.seconds);
  }, 120_000);
});
