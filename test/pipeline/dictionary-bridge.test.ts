import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCedict, parseHanjaList, readDictionaryBridge } from '../../pipeline/data/dictionary-bridge.ts';

const LEX = join(import.meta.dirname, '../../../shared/data/lexicons');

describe('Korean–Hanja–CEDICT bridge', () => {
  it('parses both formats, skipping comments, mixed-script words and non-meaning glosses', () => {
    expect(parseHanjaList('# licence\n냉장고:冷藏庫:\nㄱ자집:ㄱ字집:\n가:可:\n운동화:運動靴:\n')).toEqual([['냉장고', '冷藏庫'], ['운동화', '運動靴']]);
    const c = parseCedict('# x\n冷藏庫 冷藏库 [leng3 cang2 ku4] /refrigerator/cold store/\n張 张 [Zhang1] /surname Zhang/\n張 张 [zhang1] /CL:個|个/to open up/\n');
    expect(c.get('冷藏庫')).toBe('refrigerator');
    expect(c.get('張')).toBe('to open up'); // its first entry has only a surname gloss
  });

  it.skipIf(!existsSync(LEX))('joins the real dictionaries into about 28K Korean → Traditional Chinese → English entries', () => {
    const bridge = readDictionaryBridge(join(LEX, 'ko_hanja_libhangul_hanja.txt.gz'), join(LEX, 'cc_cedict_ts_2019-05-27.u8.gz'));
    expect(bridge.length).toBeGreaterThan(20000);
    expect(bridge.length).toBeLessThan(40000);
    expect(bridge).toContainEqual({ ko: '녹차', zh: '綠茶', en: 'green tea' });
    expect(bridge).toContainEqual({ ko: '식품', zh: '食品', en: 'foodstuff' });
    // Partial, as the data README warns: Taiwan says 冰箱, so 냉장고 (冷藏庫) finds no headword.
    expect(bridge.some((e) => e.ko === '냉장고')).toBe(false);
    expect(new Set(bridge.map((e) => `${e.ko}|${e.zh}`)).size).toBe(bridge.length);
  });
});
