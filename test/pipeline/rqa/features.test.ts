import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRecords, writeRecords } from '../../../pipeline/data/records.ts';
import type { CatalogueRecord, RelevanceRecord } from '../../../pipeline/data/schema.ts';
import { buildBm25 } from '../../../pipeline/rqa/bm25.ts';
import { catalogueDocs } from '../../../pipeline/rqa/catalogue-docs.ts';
import { bm25Retriever, withRqa } from '../../../pipeline/rqa/features.ts';

const cat = (id: string, title: string, brand = '', category = ''): CatalogueRecord => ({
  market: 'TW', language: 'zh-Hant', product_id: id, product_title: title, product_description: '',
  product_brand: brand, product_category: category,
});
const catalogue = [
  cat('p1', 'SK-II 青春露 神仙水 230ml', 'SK-II', '美妝 > 精華液'),
  cat('p2', 'SK-II 青春露 神仙水 160ml', 'SK-II', '美妝 > 精華液'),
  cat('p3', 'SK-II 青春露 神仙水 230ml', 'SK-II', '美妝 > 精華液'), // same title as p1: another listing
  cat('p4', '蘭蔻 小黑瓶 精華液 50ml', '蘭蔻', '美妝 > 精華液'),
  cat('p5', '農心 安城湯麵 125g', '農心', '食品 > 泡麵'),
  cat('p6', 'OTTOGI 不倒翁 辣牛肉湯麵 104g, 6入', 'OTTOGI', '食品 > 泡麵'),
];
const rec = (query: string, p: CatalogueRecord, i: number): RelevanceRecord => ({
  query_id: `q${i}`, product_id: p.product_id, pair_id: '', market: 'TW', language: 'zh-Hant', split: 'test',
  intent: 'alias', query, query_brand: '', product_title: p.product_title, product_description: '',
  product_brand: p.product_brand, product_category: p.product_category, rqa: [], label: 2, true_label: 2,
});

describe('RQA features', () => {
  const titles = new Map(catalogue.map((c) => [c.product_id, c.product_title]));
  const opts = { k: 2, titleOf: (id: string) => titles.get(id) };
  const retrieve = bm25Retriever(buildBm25(catalogueDocs(catalogue, 'title+brand+category')));

  it('fills rqa with retrieved titles, never the judged product, its title or a repeat', async () => {
    const records = [rec('神仙水', catalogue[0]!, 1), rec('神仙水', catalogue[1]!, 2), rec('安城', catalogue[5]!, 3)];
    const out = await withRqa(records, retrieve, opts);
    // Only p1-p3 share a term with 神仙水; p3 is p1's title again, so one title is left for p1 ...
    expect(out[0]!.rqa).toEqual(['SK-II 青春露 神仙水 160ml']);
    // ... and for p2 the two listings of the 230ml give one title.
    expect(out[1]!.rqa).toEqual(['SK-II 青春露 神仙水 230ml']);
    expect(out[2]!.rqa[0]).toBe('農心 安城湯麵 125g'); // the paper's Anseong example
    for (const r of out) expect(r.rqa).not.toContain(r.product_title);
    expect(records[0]!.rqa).toEqual([]); // inputs are not modified
  });

  for (const ext of ['jsonl', 'parquet']) {
    it(`rqa fields survive a ${ext} write and read`, async () => {
      const out = await withRqa(catalogue.map((c, i) => rec(i % 2 ? '湯麵' : '精華液', c, i)), retrieve, opts);
      expect(out.every((r) => r.rqa.length > 0)).toBe(true);
      const f = join(mkdtempSync(join(tmpdir(), 'csrm-rqa-')), `rqa.${ext}`);
      writeRecords(f, 'relevance', out);
      const back = await readRecords(f, { mode: 'fail-fast', log: () => {} });
      expect(back.records).toEqual(out);
    });
  }
});
