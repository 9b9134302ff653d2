import { describe, expect, it } from 'vitest';
import type { Label, RelevanceRecord } from '../../../pipeline/data/schema.ts';
import { evaluateOnline } from '../../../pipeline/online/evaluate.ts';
import { createHashedTower } from '../../../pipeline/online/hashed-tower.ts';

const rec = (query_id: string, query: string, product_id: string, product_title: string, label: Label): RelevanceRecord => ({
  query_id, product_id, pair_id: '', market: 'tw', language: 'en', split: 'test', intent: 'unknown', query, query_brand: '',
  product_title, product_description: '', product_brand: '', product_category: '', rqa: [], label, true_label: -1,
});

describe('offline evaluation of the online towers', () => {
  it('groups by query and judges the served ranking with the labels', async () => {
    const models = { em: createHashedTower({ dim: 256 }), defect: createHashedTower({ dim: 256, invert: true }) };
    const records = [
      rec('q1', 'lake salt', 'a', 'natural lake salt', 2),
      rec('q1', 'lake salt', 'b', 'wall paint white', 0),
      rec('q2', 'wall paint', 'b', 'wall paint white', 2),
      rec('q2', 'wall paint', 'c', 'paint roller', 1),
      rec('', 'rice cooker', 'd', 'rice cooker 10 cup', 2), // no query id: grouped by its text
    ];
    const e = await evaluateOnline(models, records);
    expect(e.pairs).toBe(5);
    expect(e.ranking.queries).toBe(3);
    // Cosines of the hashed tower (dim 256): lake salt·natural lake salt .69, lake salt·wall paint
    // white .08, wall paint·wall paint white .71, wall paint·paint roller .27, rice cooker·… .71.
    // Every exact title tops its query → EM@1 = 1. The defect tower (σ(−8c)) keeps any c > 0, so
    // 'wall paint white' (c .08, defect .34) stays on the 'lake salt' page → Defect@5 = 2/3.
    expect(e.ranking.em1).toBe(1);
    expect(e.ranking.defect5).toBeCloseTo(2 / 3, 12);
    // EM task: all 3 exact pairs predicted exact, and both positive-cosine non-exact pairs too.
    expect(e.table3.exactMatch).toMatchObject({ precision: 3 / 5, recall: 1, accuracy: 3 / 5 });
    // Defect task: the one irrelevant pair is missed (recall 0), the rest correctly kept.
    expect(e.table3.defect).toMatchObject({ recall: 0, accuracy: 4 / 5 });
    // per pair and per query, for paired comparisons: EM predicted on pairs a, b, c, d and the exact b; defect on none
    expect(e.perSample).toEqual({ em: '11111', defect: '00000' });
    expect(e.perQuery).toMatchObject({ n: 3, em1: '111', clean5: '011' });
    // A model that ranks by dissimilarity gets every query wrong: the metrics do see the models.
    const wrong = await evaluateOnline({ em: models.defect, defect: models.em }, records);
    expect(wrong.ranking.em1).toBe(0);
  });
});
