import { describe, expect, it } from 'vitest';
import type { RelevanceRecord } from '../../pipeline/data/schema.ts';
import { buildRelevancePrompt, RELEVANCE_INSTRUCTION } from '../../pipeline/prompt/relevance-prompt.ts';
import { buildTranslationPrompt } from '../../pipeline/prompt/translation-prompt.ts';

// A stand-in counter the test can reason about: one token per character.
const chars = (s: string) => [...s].length;

const record: RelevanceRecord = {
  query_id: 'q', product_id: 'p', pair_id: '', market: 'TW', language: 'zh-Hant', split: 'test', intent: 'alias',
  query: '安城', query_brand: '', product_title: 'OTTOGI 不倒翁辣牛肉湯麵, 104g, 6入', product_description: '韓國進口泡麵，湯頭濃郁。'.repeat(4),
  product_brand: '不倒翁', product_category: '食品 > 泡麵', rqa: ['Nongshim 農心安城湯麵125g', '農心 安城湯麵 5入', '真拉麵'], label: 1, true_label: 1,
};

describe('relevance prompt', () => {
  it('names every feature, product first, then the RQA titles and the query, ends at the answer slot', () => {
    const p = buildRelevancePrompt(record);
    expect(p.prompt.split('\n')).toEqual([
      RELEVANCE_INSTRUCTION,
      'title: OTTOGI 不倒翁辣牛肉湯麵, 104g, 6入',
      'brand: 不倒翁',
      'category: 食品 > 泡麵',
      `description: ${record.product_description}`,
      'rqa: Nongshim 農心安城湯麵125g | 農心 安城湯麵 5入 | 真拉麵',
      'query: 安城',
      'label:',
    ]);
    expect(p.answer).toBe('1');
    expect(p.cuts).toEqual([]);
  });

  it('puts the query first in the query-first layout (same fields, same cuts)', () => {
    const p = buildRelevancePrompt({ ...record, query_brand: '不倒翁' }, { layout: 'query-first' });
    expect(p.prompt.split('\n').slice(0, 4)).toEqual([RELEVANCE_INSTRUCTION, 'query: 安城', 'query_brand: 不倒翁', 'title: OTTOGI 不倒翁辣牛肉湯麵, 104g, 6入']);
    const a = buildRelevancePrompt(record, { count: chars, maxTokens: 60 });
    const b = buildRelevancePrompt(record, { count: chars, maxTokens: 60, layout: 'query-first' });
    expect(b.cuts).toEqual(a.cuts);
    expect(b.tokens).toBe(a.tokens);
  });

  it('cuts the description first, then RQA titles from the last, never query or title', () => {
    const full = buildRelevancePrompt(record, { count: chars }).tokens;
    const descLen = chars(record.product_description);
    const shortened = buildRelevancePrompt(record, { count: chars, maxTokens: full - 10 });
    expect(shortened.cuts).toEqual(['description shortened']);
    expect(shortened.tokens).toBeLessThanOrEqual(full - 10);
    const noDesc = buildRelevancePrompt(record, { count: chars, maxTokens: full - descLen - 20 });
    expect(noDesc.cuts).toEqual(['description dropped', 'rqa -1']);
    expect(noDesc.prompt).toContain('rqa: Nongshim 農心安城湯麵125g | 農心 安城湯麵 5入\n');
    const limit = buildRelevancePrompt({ ...record, product_description: '', rqa: [], product_category: '' }, { count: chars }).tokens;
    const tight = buildRelevancePrompt(record, { count: chars, maxTokens: limit });
    expect(tight.prompt).toContain('query: 安城');
    expect(tight.prompt).toContain('title: OTTOGI 不倒翁辣牛肉湯麵, 104g, 6入');
    expect(tight.prompt).toContain('brand: 不倒翁');
    expect(tight.prompt).not.toContain('rqa:');
    expect(tight.cuts).toEqual(['description dropped', 'rqa -3', 'category dropped']);
    expect(tight.tokens).toBe(limit);
    expect(tight.overLimit).toBe(false);
    const impossible = buildRelevancePrompt(record, { count: chars, maxTokens: 20 });
    expect(impossible.overLimit).toBe(true);
    expect(impossible.prompt).toContain('query: 安城');
    expect(impossible.prompt).toContain('title: OTTOGI');
  });

  it('needs a counter to fit under a limit', () => {
    expect(() => buildRelevancePrompt(record, { maxTokens: 50 })).toThrow(/counter/);
  });
});

describe('translation prompts', () => {
  it('name the kind and the languages, and answer with the target', () => {
    for (const kind of ['category', 'brand', 'title', 'query'] as const) {
      const p = buildTranslationPrompt({ kind, source_language: 'ko', target_language: 'zh-Hant', source: '농심', target: '農心' });
      expect(p.prompt).toBe(`Translate ${kind} ko > zh-Hant\nsource: 농심\ntarget:`);
      expect(p.answer).toBe('農心');
    }
  });
});
