// Dictionary matching by the token boundaries of each script (pipeline/data/market/tokens.ts), and
// the brand and alias detection built on it.
import { describe, expect, it } from 'vitest';
import { BrandFinder, QueryReader } from '../../pipeline/data/market/interpret.ts';
import { loadLexicon } from '../../pipeline/data/market/lexicon.ts';
import { Dictionary, scriptClass } from '../../pipeline/data/market/tokens.ts';

function words(dictionary: string[], text: string): string[] {
  const d = new Dictionary<string>();
  for (const w of dictionary) d.add(w, w);
  return d.tokens(text).map((t) => t.text);
}

describe('token boundaries per script', () => {
  it('classifies characters', () => {
    expect(['려', '反', 'カ'].map(scriptClass)).toEqual(['unspaced', 'unspaced', 'unspaced']);
    expect(['a', 'é', '7', 'Ж'].map(scriptClass)).toEqual(['spaced', 'spaced', 'spaced', 'spaced']);
    expect([' ', '-', '【', '。'].map(scriptClass)).toEqual(['separator', 'separator', 'separator', 'separator']);
  });

  const cases: [script: string, dictionary: string[], text: string, found: string[]][] = [
    // Hangul: a word starts a run or follows a known word; it may end anywhere (particles, compounds).
    ['Hangul: the brand 려 is not inside 반려동물', ['려'], '반려동물', []],
    ['Hangul: nor inside 반려동물 샴푸', ['려', '샴푸'], '반려동물 샴푸', ['샴푸']],
    ['Hangul: a known word at the run start takes it whole', ['려', '반려동물'], '반려동물용품', ['반려동물']],
    ['Hangul: a brand alone', ['려'], '려 샴푸', ['려']],
    ['Hangul: a brand compounded with its type', ['려', '샴푸'], '려샴푸', ['려', '샴푸']],
    ['Hangul: a brand after a known word', ['려', '샴푸'], '샴푸려', ['샴푸', '려']],
    ['Hangul: not after an unknown stretch', ['려'], '비누려', []],
    ['Hangul: a brand with a particle', ['나이키'], '나이키의 운동화', ['나이키']],
    ['Hangul: the longest word at a token start wins', ['애플', '애플망고'], '애플망고 주스', ['애플망고']],
    ['Hangul: after a digit (a change of script)', ['개입'], '5개입', ['개입']],
    // Han: the same rule; runs of Hangul and Han are separate runs.
    ['Han: a brand at the run start', ['小米'], '小米行動電源', ['小米']],
    ['Han: not inside another word', ['米'], '玉米片', []],
    ['Han: not after an unknown stretch', ['三星'], '韓國三星手機', []],
    ['Han: after a known word', ['三星', '韓國'], '韓國三星手機', ['韓國', '三星']],
    ['Han after Hangul starts a run', ['三星'], '삼성三星', ['三星']],
    // Latin and digits: a word ends where the letters end.
    ['Latin: not a prefix of a longer word', ['Dove'], 'Dovetail saw', []],
    ['Latin: not a suffix of a longer word', ['Dove'], 'turtledove', []],
    ['Latin: a whole word, any case', ['Dove'], 'DOVE soap', ['DOVE']],
    ['Latin: next to punctuation', ['Nike'], 'nike, adidas', ['nike']],
    ['Latin: next to Hangul (a change of script)', ['UGG'], 'UGG부츠', ['UGG']],
    ['Latin: with inner punctuation and spaces', ['SK-II', 'Dr. Martens'], 'SK-II 精華 Dr. Martens', ['SK-II', 'Dr. Martens']],
    ['digits: not part of a longer number', ['992'], '9920 992', ['992']],
  ];
  for (const [name, dictionary, text, found] of cases) {
    it(`${name}: ${JSON.stringify(text)} → ${JSON.stringify(found)}`, () => expect(words(dictionary, text)).toEqual(found));
  }
});

describe('brand and alias detection on the shipped lexicon', () => {
  const lex = loadLexicon();
  const ko = new BrandFinder(lex, 'ko'), zh = new BrandFinder(lex, 'zh-Hant');

  it('finds brands as written, local or English, the longest first', () => {
    expect(ko.find('나이키 운동화')).toBe('나이키');
    expect(ko.find('nike 운동화')).toBe('nike');
    expect(zh.find('The North Face 羽絨外套')).toBe('The North Face');
    expect(zh.find('SK-II精華液')).toBe('SK-II');
  });

  it('does not find a brand inside another word', () => {
    expect(ko.find('파인애플')).toBe(''); // 애플 (Apple) inside pineapple
    expect(ko.find('반려동물')).toBe('');
    expect(zh.find('Applesauce')).toBe('');
  });

  it('reads nicknames as words too', () => {
    const reader = new QueryReader(lex, 'zh-Hant');
    expect(reader.read('三星標')).toMatchObject({ intent: 'alias', line: 'converse_chuck70', brand: 'converse' });
    expect(reader.read('三星耳機')).toMatchObject({ intent: 'brand_type', brand: 'samsung', type: 'earphones' });
  });
});

describe('matching keeps positions', () => {
  it('with letters whose lower case is longer (İ)', () => {
    expect(words(['Nike'], 'İstanbul NIKE')).toEqual(['NIKE']);
  });
});
