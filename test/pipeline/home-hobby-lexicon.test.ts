// The project's second lexicon (pipeline/data/lexicon/home-hobby-kr-tw.json): other domains than
// kr-tw, sizes and counters said differently in each market, negotiability that differs by type, and
// nicknames of every kind. A tiny market generated from it must follow the label rules.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runGenerate } from '../../pipeline/cli/generate.ts';
import { generateMarket } from '../../pipeline/data/market/generate.ts';
import { BrandFinder, QueryReader } from '../../pipeline/data/market/interpret.ts';
import { Judge } from '../../pipeline/data/market/judge.ts';
import { forms, LEXICON_DIR, loadLexicon } from '../../pipeline/data/market/lexicon.ts';
import { Dictionary } from '../../pipeline/data/market/tokens.ts';
import type { ProductFacts } from '../../pipeline/data/market/world.ts';

const FILE = join(LEXICON_DIR, 'home-hobby-kr-tw.json');
const lex = loadLexicon(FILE);
const judge = new Judge(lex);
const ko = new QueryReader(lex, 'ko'), zh = new QueryReader(lex, 'zh-Hant');

function product(over: Partial<ProductFacts> & Pick<ProductFacts, 'type' | 'brand'>): ProductFacts {
  const t = lex.types.find((x) => x.id === over.type)!;
  return { id: 'P', line: '', audience: t.audiences[0], markets: ['KR', 'TW'], style: 0, ...over };
}

describe('the home-hobby lexicon', () => {
  it('is as large as a real catalogue section, with nicknames of every kind', () => {
    expect(lex.top.length).toBeGreaterThanOrEqual(20);
    expect(lex.types.length).toBeGreaterThanOrEqual(100);
    expect(lex.brands.length).toBeGreaterThanOrEqual(80);
    const kinds = new Set(lex.aliases.map(({ means: m }) =>
      m.line ? 'line' : m.brand && m.type ? 'brand+type' : m.type ? (Object.keys(m).length > 1 ? 'type+attributes' : 'type') : 'brand'));
    expect([...kinds].sort()).toEqual(['brand', 'brand+type', 'line', 'type', 'type+attributes']);
    const strict = lex.types.filter((t) => t.non_negotiable.length > 0).map((t) => t.id);
    expect(strict).toEqual(expect.arrayContaining(['fitted_sheet', 'chef_knife', 'bike_tire', 'chain', 'led_bulb', 'tent']));
    expect(strict.length).toBeGreaterThanOrEqual(20);
  });

  const cases: [ko: string, zh: string, p: ProductFacts, label: 0 | 1 | 2][] = [
    // Size is not negotiable for a fitted sheet: a queen sheet does not fit a single bed.
    ['퀸 침대커버', '雙人床包', product({ type: 'fitted_sheet', brand: 'ikea', size: 'queen', colour: 'white', material: 'cotton' }), 2],
    ['퀸 침대커버', '雙人床包', product({ type: 'fitted_sheet', brand: 'allerman', size: 'single', colour: 'white', material: 'cotton' }), 0],
    ['퀸 침대커버', '雙人床包', product({ type: 'flat_sheet', brand: 'muji', size: 'queen', colour: 'grey', material: 'linen' }), 1],
    ['퀸 침대커버', '雙人床包', product({ type: 'flat_sheet', brand: 'muji', size: 'king', colour: 'grey', material: 'linen' }), 0],
    // … but it is for a duvet.
    ['퀸 이불', '雙人棉被', product({ type: 'duvet', brand: 'ikea', size: 'king', material: 'down' }), 1],
    // A knife's steel is not negotiable.
    ['다마스커스 식도', '大馬士革鋼主廚刀', product({ type: 'santoku', brand: 'tojiro', material: 'damascus', size: 'cm18' }), 1],
    ['다마스커스 식도', '大馬士革鋼主廚刀', product({ type: 'chef_knife', brand: 'tojiro', material: 'stainless', size: 'cm21' }), 0],
    // Tyres, chains and bulbs fit one size.
    ['700C 자전거타이어', '700C外胎', product({ type: 'bike_tire', brand: 'maxxis', size: 'w26', pack: 1 }), 0],
    ['700C 자전거타이어', '700C外胎', product({ type: 'bike_tire', brand: 'kenda', size: 'w700c', pack: 2 }), 2],
    ['11단 체인', '11速鏈條', product({ type: 'chain', brand: 'kmc', size: 'sp12' }), 0],
    ['E26 LED전구', 'E27 LED燈泡', product({ type: 'led_bulb', brand: 'osram', size: 'e14', colour: 'daylight', pack: 1 }), 0],
    ['E26 LED전구', 'E27 LED燈泡', product({ type: 'led_bulb', brand: 'osram', size: 'e26', colour: 'daylight', pack: 4 }), 2],
    // Audience: shampoo is for people.
    ['샴푸', '洗髮精', product({ type: 'pet_shampoo', brand: 'biogroom', size: 'ml300' }), 0],
    ['반려동물', '寵物用品', product({ type: 'dog_harness', brand: 'puppia', size: 'S', colour: 'red' }), 2],
    // Nicknames of a type, of a type with a fixed attribute, of a brand, of a brand's type, of a line.
    ['스펀지', '水妖精', product({ type: 'sponge_filter', brand: 'azoo', pack: 2 }), 2],
    ['스펀지', '水妖精', product({ type: 'canister_filter', brand: 'eheim', size: 'tank60' }), 1],
    ['스펀지', '水妖精', product({ type: 'heater', brand: 'eheim', size: 'watt100' }), 0],
    ['2자어항', '二尺缸', product({ type: 'fish_tank', brand: 'ada', size: 'tank60', material: 'glass' }), 2],
    ['2자어항', '二尺缸', product({ type: 'fish_tank', brand: 'ada', size: 'tank90', material: 'glass' }), 1],
    ['두부모래', '豆腐砂', product({ type: 'cat_litter', brand: 'catit', material: 'tofu', size: 'l5', pack: 1 }), 2],
    ['두부모래', '豆腐砂', product({ type: 'cat_litter', brand: 'catit', material: 'bentonite', size: 'l5', pack: 1 }), 1],
    ['쌍둥이칼', '雙人刀', product({ type: 'peeler', brand: 'zwilling', colour: 'black', material: 'stainless' }), 2],
    ['쌍둥이칼', '雙人刀', product({ type: 'chef_knife', brand: 'wusthof', material: 'stainless', size: 'cm21' }), 1],
    ['쌍둥이칼', '雙人刀', product({ type: 'tent', brand: 'coleman', size: 'p4', colour: 'beige' }), 0],
    ['에버모래', '藍鑽', product({ type: 'cat_litter', brand: 'everclean', material: 'bentonite', size: 'l10', pack: 1 }), 2],
    ['에버모래', '藍鑽', product({ type: 'cat_litter', brand: 'catit', material: 'bentonite', size: 'l10', pack: 1 }), 1],
    ['지워지는펜', '魔擦筆', product({ type: 'gel_pen', brand: 'pilot', line: 'pilot_frixion', colour: 'red', size: 'tip05', pack: 1 }), 2],
    ['지워지는펜', '魔擦筆', product({ type: 'gel_pen', brand: 'zebra', colour: 'red', size: 'tip05', pack: 1 }), 1],
  ];
  for (const [qk, qz, p, want] of cases) {
    it(`${qk} / ${qz} × ${p.brand} ${p.type} → ${want}`, () => {
      expect(judge.label(ko.read(qk), p)).toBe(want);
      expect(judge.label(zh.read(qz), p)).toBe(want);
    });
  }

  it('finds the brand 려 only as a word of its own (not in 반려동물), nor 턴 in 랜턴', () => {
    const finder = new BrandFinder(lex, 'ko');
    expect(['반려동물', '반려견샴푸 300ml', '랜턴', '그린 캠핑랜턴'].map((q) => finder.find(q))).toEqual(['', '', '', '']);
    expect(['려 샴푸', '려샴푸', '탈모샴푸 려', '턴 접이식자전거'].map((q) => finder.find(q))).toEqual(['려', '려', '려', '턴']);
    expect(new BrandFinder(lex, 'zh-Hant').find('雙人牌主廚刀')).toBe('雙人牌');
  });
});

describe('a tiny market of the home-hobby lexicon', () => {
  const m = generateMarket({ preset: 'tiny', seed: 4, lexicon: FILE });
  const products = new Map(m.products.map((p) => [p.id, p]));
  const readers: Record<string, QueryReader> = { ko, 'zh-Hant': zh };

  it('labels every sample as its query text reads, with every label and several kinds of nickname', () => {
    for (const r of m.relevance) {
      const q = readers[r.language].read(r.query);
      expect(judge.label(q, products.get(r.product_id)!), `${r.query} × ${r.product_title}`).toBe(r.true_label);
      expect(q.intent === 'brand_type' && r.intent === 'english_brand' ? 'english_brand' : q.intent).toBe(r.intent);
    }
    for (const split of ['KR/train', 'TW/test'] as const)
      for (const l of ['0', '1', '2']) expect(m.summary.relevance[split].labels[l]).toBeGreaterThan(0);
    const said = new Set(m.relevance.filter((r) => r.intent === 'alias').map((r) => r.query));
    const meant = new Set(lex.aliases.filter((a) => [...forms(a, 'ko'), ...forms(a, 'zh-Hant')].some((f) => said.has(f)))
      .map((a) => (a.means.line ? 'line' : a.means.type ? 'type' : 'brand')));
    expect(meant.size).toBeGreaterThanOrEqual(2);
  });

  it('fills query_brand with brand words of the query only', () => {
    for (const r of m.relevance) if (r.query_brand) {
      const d = new Dictionary<string>();
      d.add(r.query_brand, r.query_brand);
      expect(d.tokens(r.query).map((t) => t.text), r.query).toContain(r.query_brand);
    }
  });

  it('writes sizes and counters in each market\'s words', () => {
    const text = (market: string) => m.catalogue.filter((c) => c.market === market).map((c) => `${c.product_title} ${c.product_description}`).join('\n');
    expect(text('TW')).toMatch(/(\d+(公升|公分|公斤|克|米|吋|尺|目)|單人|雙人)/);
    expect(text('KR')).toMatch(/(\d+(인치|방|단|인용)|싱글|퀸|킹)/);
    expect(text('TW')).toMatch(/\d+(入|把|支|條|件|包|瓶|盆|株|本|罐)/);
    expect(text('KR')).toMatch(/\d+(개입|개|자루|장|포|병|포트|권|통)/);
  });

  it('is what `csrm generate --lexicon FILE` writes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'csrm-hobby-'));
    const printed = runGenerate(['--preset', 'tiny', '--seed', '4', '--lexicon', FILE, '--out', dir], () => {});
    expect(printed).toMatch(/lexicon: home-hobby-kr-tw/);
    const train = readFileSync(join(dir, 'relevance', 'KR-train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(train.map((r) => r.true_label)).toEqual(m.relevance.filter((r) => r.market === 'KR' && r.split === 'train').map((r) => r.true_label));
  });
});
