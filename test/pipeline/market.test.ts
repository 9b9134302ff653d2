import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BRIDGE_DIR, parseGenerateArgs, runGenerate } from '../../pipeline/cli/generate.ts';
import { readRecords } from '../../pipeline/data/records.ts';
import { generateMarket } from '../../pipeline/data/market/generate.ts';
import { QueryReader } from '../../pipeline/data/market/interpret.ts';
import { Judge } from '../../pipeline/data/market/judge.ts';
import { readMarket } from '../../pipeline/data/market/read.ts';
import { writeMarket } from '../../pipeline/data/market/write.ts';
import { forms, loadLexicon } from '../../pipeline/data/market/lexicon.ts';
import { lexiconProblems } from '../../pipeline/data/market/lexicon-problems.ts';
import { makeRng } from '../../pipeline/data/market/rng.ts';
import { noisyLabel } from '../../pipeline/data/market/noise.ts';
import type { ProductFacts } from '../../pipeline/data/market/world.ts';

const lex = loadLexicon();
const judge = new Judge(lex);
const MINI = join(import.meta.dirname, 'fixtures/mini-lexicon.json');

function hashDir(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const f = join(d, name);
      if (statSync(f).isDirectory()) walk(f);
      else h.update(name).update(readFileSync(f));
    }
  };
  walk(dir);
  return h.digest('hex');
}

function product(over: Partial<ProductFacts> & Pick<ProductFacts, 'type' | 'brand'>): ProductFacts {
  return { id: 'P', line: '', audience: 'all', markets: ['KR', 'TW'], style: 0, ...over };
}

describe('the shipped lexicon', () => {
  it('is valid and as large as the issue asks', () => {
    expect(lexiconProblems(lex)).toEqual([]);
    expect(lex.top.length).toBeGreaterThanOrEqual(10);
    expect(lex.types.length).toBeGreaterThanOrEqual(40);
    expect(lex.brands.length).toBeGreaterThanOrEqual(60);
    const aliases = lex.aliases.flatMap((a) => [...forms(a, 'ko'), ...forms(a, 'zh-Hant')]);
    expect(aliases.length).toBeGreaterThanOrEqual(30);
  });
});

describe('label rules on hand-written cases', () => {
  const ko = new QueryReader(lex, 'ko');
  const zh = new QueryReader(lex, 'zh-Hant');
  const cases: [string, string, ProductFacts, number][] = [
    // query (ko), query (zh), product, label
    ['운동화', '運動鞋', product({ type: 'sneakers', brand: 'nike', audience: 'man', colour: 'black', size: '260mm' }), 2],
    ['나이키 운동화', '耐吉運動鞋', product({ type: 'sneakers', brand: 'adidas', audience: 'man' }), 1],
    ['나이키 운동화', '耐吉運動鞋', product({ type: 'running_shoes', brand: 'nike', audience: 'woman' }), 1],
    ['여성 운동화', '女款運動鞋', product({ type: 'tshirt', brand: 'nike', audience: 'woman' }), 0],
    ['여성 운동화', '女款運動鞋', product({ type: 'sneakers', brand: 'puma', audience: 'man' }), 0],
    ['여성 운동화', '女款運動鞋', product({ type: 'sneakers', brand: 'puma', audience: 'unisex' }), 2],
    ['티셔츠', 'T恤', product({ type: 'pet_clothes', brand: 'puppia', audience: 'pet' }), 0],
    ['샴푸', '洗髮精', product({ type: 'pet_shampoo', brand: 'forcans', audience: 'pet' }), 0],
    ['블랙 티셔츠', '黑色T恤', product({ type: 'tshirt', brand: 'uniqlo', audience: 'man', colour: 'white' }), 1],
    ['라면 5개입', '泡麵 5入', product({ type: 'ramen', brand: 'ottogi', pack: 4 }), 1],
    ['라면 5개입', '泡麵 5入', product({ type: 'cup_noodle', brand: 'ottogi', pack: 6 }), 1],
    ['안성', '安城', product({ type: 'ramen', brand: 'nongshim', line: 'nongshim_anseong', pack: 5 }), 2],
    ['안성', '安城', product({ type: 'ramen', brand: 'ottogi', line: 'ottogi_jin', pack: 6 }), 1],
    ['안성', '安城', product({ type: 'kimchi', brand: 'bibigo' }), 0],
    ['피테라', '神仙水', product({ type: 'ampoule', brand: 'lancome' }), 1],
    ['피테라', '神仙水', product({ type: 'shampoo', brand: 'shiseido' }), 0],
    ['농심', '農心', product({ type: 'chips', brand: 'nongshim' }), 2],
    ['농심', '農心', product({ type: 'ramen', brand: 'samyang' }), 1],
    ['농심', '農心', product({ type: 'tumbler', brand: 'stanley' }), 0],
    ['뷰티', '美妝保養', product({ type: 'lipstick', brand: 'hera', colour: 'red' }), 2],
    ['뷰티', '美妝保養', product({ type: 'ramen', brand: 'nongshim' }), 0],
    ['nike 운동화', 'Nike 運動鞋', product({ type: 'sneakers', brand: 'nike', audience: 'kid' }), 2],
  ];
  for (const [qk, qz, p, want] of cases) {
    it(`${qk} / ${qz} × ${p.brand} ${p.type} → ${want}`, () => {
      expect(judge.label(ko.read(qk), p)).toBe(want);
      expect(judge.label(zh.read(qz), p)).toBe(want);
    });
  }

  it('every generated query reads back to the requirements it was judged by', () => {
    const m = generateMarket({ preset: 'tiny', seed: 5 });
    const products = new Map(m.products.map((p) => [p.id, p]));
    const readers: Record<string, QueryReader> = { ko, 'zh-Hant': zh };
    for (const r of m.relevance) {
      const q = readers[r.language].read(r.query);
      expect(judge.label(q, products.get(r.product_id)!), `${r.query} × ${r.product_title}`).toBe(r.true_label);
      // A brand whose local name is its English name cannot show that it was typed in English.
      expect(q.intent === 'brand_type' && r.intent === 'english_brand' ? 'english_brand' : q.intent).toBe(r.intent);
    }
  });
});

describe('generation', () => {
  it('is deterministic: same seed, same bytes; another seed, other bytes', () => {
    const a = mkdtempSync(join(tmpdir(), 'csrm-gen-a-'));
    const b = mkdtempSync(join(tmpdir(), 'csrm-gen-b-'));
    const c = mkdtempSync(join(tmpdir(), 'csrm-gen-c-'));
    const quiet = () => {};
    runGenerate(['--preset', 'tiny', '--seed', '7', '--out', a], quiet);
    runGenerate(['--preset', 'tiny', '--seed', '7', '--out', b], quiet);
    runGenerate(['--preset', 'tiny', '--seed', '8', '--out', c], quiet);
    expect(hashDir(a)).toBe(hashDir(b));
    expect(hashDir(a)).not.toBe(hashDir(c));
  });

  it('tiny takes well under a second', () => {
    generateMarket({ preset: 'tiny', seed: 1 }); // warm the module and lexicon caches
    const t0 = performance.now();
    generateMarket({ preset: 'tiny', seed: 2 });
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('writes readable files whose counts match the summary, and prints the summary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'csrm-gen-'));
    const printed = runGenerate(['--preset', 'tiny', '--seed', '3', '--out', dir, '--format', 'parquet'], () => {});
    expect(printed).toMatch(/KR\/train\s+320/);
    expect(printed).toMatch(/noise/);
    expect(printed).toMatch(/alias/);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    for (const [key, v] of Object.entries(summary.relevance) as [string, { count: number }][]) {
      const [market, split] = key.split('/');
      const res = await readRecords(join(dir, 'relevance', `${market}-${split}.parquet`), { mode: 'fail-fast', log: () => {} });
      expect(res.records).toHaveLength(v.count);
    }
    const tr = await readRecords(join(dir, 'translation', 'brand.parquet'), { mode: 'fail-fast', kind: 'translation', log: () => {} });
    expect(tr.records.length).toBe(summary.translations.brand);
  });

  for (const format of ['jsonl', 'csv', 'parquet'] as const) {
    it(`reads a written market back as it was generated (${format})`, async () => {
      const m = generateMarket({ preset: 'tiny', seed: 21 });
      const dir = mkdtempSync(join(tmpdir(), 'csrm-read-'));
      writeMarket(m, dir, format);
      const back = await readMarket(dir, { mode: 'fail-fast', log: () => {} });
      const key = (r: { market: string; query_id: string; product_id: string; split?: string }) => `${r.market}|${r.split}|${r.query_id}|${r.product_id}`;
      const sortBy = <T extends { market: string; query_id: string; product_id: string }>(xs: T[]) => [...xs].sort((a, b) => (key(a) < key(b) ? -1 : 1));
      expect(sortBy(back.relevance)).toEqual(sortBy(m.relevance));
      expect(back.behaviour.length).toBe(m.behaviour.length);
      expect(back.catalogue.length).toBe(m.catalogue.length);
      expect(new Set(back.translations.map((t) => JSON.stringify(t)))).toEqual(new Set(m.translations.map((t) => JSON.stringify(t))));
      expect(back.summary).toEqual(m.summary);
    });
  }

  it('keeps the paper\'s structure: twins, clean dev/test, noisy train, sparse target behaviour', () => {
    const m = generateMarket({ preset: 'demo', seed: 11 });
    const s = m.summary.relevance;
    expect(s['KR/train'].count).toBe(12000);
    expect(s['TW/train'].count).toBe(1200);
    expect(s['KR/test'].noiseRate).toBe(0);
    expect(s['TW/dev'].noiseRate).toBe(0);
    // Binomial(12000, 0.1): sd ≈ 0.0027, so ±0.02 is far beyond 3.5 sd; TW (1200): sd ≈ 0.0087.
    expect(Math.abs(s['KR/train'].noiseRate! - 0.1)).toBeLessThan(0.02);
    expect(Math.abs(s['TW/train'].noiseRate! - 0.1)).toBeLessThan(0.06);
    for (const split of ['KR/train', 'TW/test'] as const)
      for (const l of ['0', '1', '2']) expect(s[split].labels[l] / s[split].count).toBeGreaterThan(0.2);
    expect(s['KR/train'].aliasShare).toBeGreaterThan(0.08);
    // Every test sample has its translated twin in the other market.
    const kr = new Map(m.relevance.filter((r) => r.market === 'KR' && r.split === 'test').map((r) => [r.pair_id, r]));
    const tw = m.relevance.filter((r) => r.market === 'TW' && r.split === 'test');
    for (const r of tw) {
      const twin = kr.get(r.pair_id)!;
      expect(twin.product_id).toBe(r.product_id);
      expect(twin.label).toBe(r.label);
    }
    expect(m.summary.behaviour.TW.impressions * 10).toBeLessThan(m.summary.behaviour.KR.impressions);
    // Alias queries are decodable from the behaviour logs: their most-bought product is of their line.
    const lineOf = new Map(m.products.map((p) => [p.id, p.line]));
    const aliasLine = new Map(m.relevance.filter((r) => r.intent === 'alias' && r.market === 'KR')
      .map((r) => [r.query_id, lex.aliases.find((a) => forms(a, 'ko').includes(r.query))!.means.line]));
    const best = new Map<string, { product: string; score: number }>();
    for (const b of m.behaviour) {
      if (!aliasLine.has(b.query_id)) continue;
      const score = b.purchases * 10 + b.clicks;
      if (score > (best.get(b.query_id)?.score ?? -1)) best.set(b.query_id, { product: b.product_id, score });
    }
    const decoded = [...best].filter(([q, b]) => lineOf.get(b.product) === aliasLine.get(q)).length;
    expect(decoded / best.size).toBeGreaterThan(0.8);
    // Most nicknames never appear in a title: only descriptions and behaviour reveal them. A few are
    // lexical, like 安城 inside 安城湯麵, as in the paper's own example.
    const aliases = lex.aliases.flatMap((a) => [...forms(a, 'ko'), ...forms(a, 'zh-Hant')]);
    const titles = m.catalogue.map((c) => c.product_title);
    const hidden = aliases.filter((a) => !titles.some((t) => t.includes(a)));
    expect(hidden.length).toBeGreaterThanOrEqual(45);
  });

  it('builds a market from a lexicon it has never seen (English → Spanish)', () => {
    const m = generateMarket({ preset: 'tiny', seed: 1, lexicon: MINI });
    expect(m.source.market).toBe('US');
    expect(new Set(m.relevance.map((r) => r.language))).toEqual(new Set(['en', 'es']));
    expect(m.relevance.some((r) => r.query === 'la lata amarilla')).toBe(true);
    const mj = new Judge(loadLexicon(MINI));
    const shirt = { id: 'x', type: 'shirt', brand: 'norte', line: '', audience: 'woman', colour: 'red', size: 'M', markets: [], style: 0 };
    const es = new QueryReader(loadLexicon(MINI), 'es');
    expect(mj.label(es.read('camiseta mujer'), shirt)).toBe(2);
    expect(mj.label(es.read('suéter Acme'), shirt)).toBe(1);
    expect(mj.label(es.read('abrigo para perro'), shirt)).toBe(0);
  });

  it('noise confusions are mostly exact ↔ substitute', () => {
    const rng = makeRng(1, 'noise-test');
    const flips: Record<string, number> = {};
    let changed = 0;
    const n = 60000;
    for (let i = 0; i < n; i++) {
      const t = (i % 3) as 0 | 1 | 2;
      const l = noisyLabel(t, 0.2, rng);
      if (l !== t) { changed++; const k = [t, l].sort().join(''); flips[k] = (flips[k] ?? 0) + 1; }
    }
    expect(Math.abs(changed / n - 0.2)).toBeLessThan(0.01);
    expect(flips['12']).toBeGreaterThan(flips['01']);
    expect(flips['01']).toBeGreaterThan(flips['02']);
  });

  it.skipIf(!existsSync(DEFAULT_BRIDGE_DIR))('adds real word pairs from the dictionary bridge on request, with their attribution', () => {
    const dir = mkdtempSync(join(tmpdir(), 'csrm-bridge-'));
    const printed = runGenerate(['--preset', 'tiny', '--out', dir, '--bridge-words', '200'], () => {});
    expect(printed).toMatch(/word 200/);
    const words = readFileSync(join(dir, 'translation', 'word.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(words).toHaveLength(200);
    expect(words.every((w) => w.kind === 'word' && /^\p{Script=Hangul}+$/u.test(w.source) && /^\p{Script=Han}+$/u.test(w.target))).toBe(true);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toMatch(/CC-CEDICT.*CC BY-SA 4\.0/);
    expect(() => generateMarket({ preset: 'tiny', seed: 1, size: { translations: { category: 1, brand: 1, title: 1, query: 1, word: 5 } } }))
      .toThrow(/dictionary bridge/);
  });

  it('parses the CLI arguments and refuses bad ones', () => {
    expect(parseGenerateArgs(['--preset', 'tiny', '--seed', '4', '--out', 'x'])).toEqual({ preset: 'tiny', seed: 4, out: 'x', lexicon: undefined, format: 'jsonl' });
    expect(() => parseGenerateArgs(['--preset', 'huge', '--out', 'x'])).toThrow(/unknown preset/);
    expect(() => parseGenerateArgs(['--preset', 'tiny'])).toThrow(/--out is required/);
    expect(() => parseGenerateArgs(['--out', 'x', '--bogus', '1'])).toThrow(/unknown option/);
    expect(parseGenerateArgs(['--out', 'x', '--noise', '0.25']).noise).toBe(0.25);
    expect(() => parseGenerateArgs(['--out', 'x', '--noise', '2'])).toThrow(/--noise/);
  });
});
