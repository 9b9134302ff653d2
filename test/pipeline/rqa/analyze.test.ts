import { describe, expect, it } from 'vitest';
import { analyzer, ngramTerms, pieceTerms } from '../../../pipeline/rqa/analyze.ts';

describe('RQA analyzer', () => {
  it('makes uni- and bi-grams of Chinese runs and lower-cased Latin/digit words', () => {
    expect(ngramTerms('SK-II 神仙水')).toEqual(['sk', 'ii', '神', '神仙', '仙', '仙水', '水']);
  });

  it('splits a digit run from a following ideograph and keeps Hangul as n-grams', () => {
    expect(ngramTerms('6入 농심')).toEqual(['6', '入', '농', '농심', '심']);
    expect(ngramTerms('OTTOGI 不倒翁, 104g')).toEqual(['ottogi', '不', '不倒', '倒', '倒翁', '翁', '104g']);
  });

  it('folds full-width Latin and drops punctuation', () => {
    expect(ngramTerms('Ｎｉｋｅ【運動鞋】!!')).toEqual(['nike', '運', '運動', '動', '動鞋', '鞋']);
    expect(ngramTerms(' ,.;- ')).toEqual([]);
  });

  it('uses sentencepiece pieces through a plain function, alone or next to n-grams', () => {
    const enc = (t: string) => t.split(' ').map((w, i) => (i === 0 ? '\u2581' : '\u2581') + w).concat(['\u2581']);
    expect(pieceTerms(enc, 'Nike 球鞋')).toEqual(['nike', '球鞋']);
    expect(analyzer({ ngrams: false, encodePieces: enc })('Nike 球鞋')).toEqual(['nike', '球鞋']);
    const both = analyzer({ encodePieces: enc })('球鞋');
    expect(both).toEqual(['球', '球鞋', '鞋', '\u0001球鞋']);
    expect(() => analyzer({ ngrams: false })).toThrow();
  });
});
