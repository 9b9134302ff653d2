import { beforeAll, describe, expect, it } from 'vitest';
import { generateMarket } from '../../pipeline/data/market/generate.ts';
import { buildRelevancePrompt, RELEVANCE_INSTRUCTION } from '../../pipeline/prompt/relevance-prompt.ts';
import { buildTranslationPrompt } from '../../pipeline/prompt/translation-prompt.ts';
import { loadTokenizer, type Tokenizer } from '../../pipeline/tokenizer/tokenizer.ts';

let tok: Tokenizer;
beforeAll(async () => { tok = await loadTokenizer(); });

describe('tokenizer', () => {
  it('has a vocabulary sized for the small models and fixed special ids', () => {
    expect(tok.vocabSize).toBe(3000);
    expect([tok.pad, tok.unk, tok.bos, tok.eos]).toEqual([0, 1, 2, 3]);
  });

  it('keeps each label token a single piece, also right after the answer slot', () => {
    const [i0, i1, i2] = tok.labelTokenIds;
    expect(new Set([i0, i1, i2]).size).toBe(3);
    for (const [k, id] of tok.labelTokenIds.entries()) {
      expect(tok.piece(id)).toBe(String(k));
      const ids = tok.encode(`label:\n${k}`);
      expect(ids[ids.length - 1]).toBe(id);
    }
  });

  const texts = [
    '농심 안성탕면 5개입',
    '나이키 에어포스 1 화이트 운동화 260mm 무료배송',
    '不倒翁辣牛肉湯麵增量版, 104g, 6入',
    '神仙水 SK-II 青春露 230ml',
    'Nike 운동화 / 耐吉運動鞋 [특가] 【限時特價】',
    '  spaces   kept\tand tabs ',
    '未見過的字 𠮷 emoji 😀 и кириллица',
  ];
  for (const t of texts) {
    it(`round-trips ${JSON.stringify(t)}`, () => {
      expect(tok.decode(tok.encode(t))).toBe(t);
    });
  }

  it('encodes the market\'s own words compactly', () => {
    expect(tok.pieces('농심 안성탕면')).toEqual(['▁농심', '▁안성탕면']);
    expect(tok.count(RELEVANCE_INSTRUCTION)).toBe(1);
    expect(tok.count('運動鞋')).toBeLessThanOrEqual(2);
  });

  it('round-trips every prompt of a generated market and keeps them short', () => {
    const m = generateMarket({ preset: 'tiny', seed: 9 });
    const lengths: number[] = [];
    for (const r of m.relevance) {
      const p = buildRelevancePrompt(r, { count: tok.count });
      expect(tok.decode(tok.encode(p.prompt))).toBe(p.prompt);
      lengths.push(p.tokens);
    }
    lengths.sort((a, b) => a - b);
    expect(lengths[Math.floor(lengths.length / 2)]).toBeLessThanOrEqual(64);
    for (const t of m.translations) {
      const p = buildTranslationPrompt(t);
      expect(tok.decode(tok.encode(p.answer))).toBe(p.answer);
    }
  });
});
