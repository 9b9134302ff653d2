// The synthetic cross-border market: a catalogue listed in two markets, labelled query-product
// samples per market and split, the four translation tasks and behaviour logs, all from one seed.
import type {
  BehaviourRecord, CatalogueRecord, Intent, Label, RelevanceRecord, Split, TranslationPair,
} from '../schema.ts';
import { LABELS, TRANSLATION_KINDS } from '../schema.ts';
import { simulateSessions, type SessionQuery } from './behaviour.ts';
import { buildProducts, catalogueRecord, type Product } from './catalogue.ts';
import { BrandFinder } from './interpret.ts';
import type { Judge } from './judge.ts';
import { loadLexicon, parseLexicon, type Lexicon } from './lexicon.ts';
import { noisyLabel } from './noise.ts';
import { PRESET_SIZES, type MarketSize, type PresetName } from './presets.ts';
import { intentWeights, makeQuery, QUERY_INTENTS } from './queries.ts';
import { Renderer } from './render.ts';
import { makeRng, type Rng } from './rng.ts';
import { dictionaryPairs, samplePairs } from './translation.ts';
import type { QueryConcept } from './world.ts';

export interface GenerateOptions {
  preset: PresetName;
  seed: number;
  /** Path of a lexicon file, or a lexicon object (validated, and migrated from schema 1, like a file); the shipped kr-tw lexicon by default. */
  lexicon?: string | Lexicon | Record<string, unknown>;
  /** Overrides of the preset's sizes. */
  size?: Partial<MarketSize>;
  /** Source → target word mappings for `word` translation pairs (e.g. readDictionaryBridge()). */
  bridge?: readonly { source: string; target: string }[];
  /** Licence lines of the bridge's sources, carried into the written market. */
  bridgeAttribution?: string;
}

export interface MarketSummary {
  preset: string;
  seed: number;
  lexicon: string;
  products: Record<string, number>;
  relevance: Record<string, { count: number; labels: Record<string, number>; noiseRate: number | null; aliasShare: number }>;
  translations: Record<string, number>;
  behaviour: Record<string, { pairs: number; impressions: number; clicks: number; purchases: number }>;
}

export interface Market {
  lexicon: Lexicon;
  size: MarketSize;
  source: { market: string; language: string };
  target: { market: string; language: string };
  /** Hidden truth of every product, for diagnostics and tests; models never see it. */
  products: Product[];
  catalogue: CatalogueRecord[];
  relevance: RelevanceRecord[];
  translations: TranslationPair[];
  behaviour: BehaviourRecord[];
  summary: MarketSummary;
  /** Licences and attributions of everything the market was built from. */
  attributions: string[];
}

/** Chooses up to k products for a query with a spread of labels: exact, substitutes, hard and easy negatives. */
function candidates(
  labels: Label[], pool: Product[], k: number, rng: Rng, judge: Judge, q: QueryConcept, taken: Set<string>,
): number[] {
  const buckets: number[][] = [[], [], []];
  labels.forEach((l, i) => { if (!taken.has(pool[i].id)) buckets[l].push(i); });
  // Hard negatives share the top category of what the query asks for.
  const wantTop = q.req.type ? judge.type(q.req.type).top : q.req.top;
  const hard = buckets[0].filter((i) => judge.type(pool[i].type).top === wantTop);
  const out: number[] = [];
  const used = new Set<number>();
  for (let tries = 0; out.length < k && tries < 4 * k; tries++) {
    let want = rng.weighted([0.3, 0.3, 0.4]);
    if (!buckets[want].length) want = buckets[2].length ? 2 : buckets[1].length ? 1 : 0;
    const from = want === 0 && hard.length && rng.chance(0.5) ? hard : buckets[want];
    if (!from.length) break;
    const i = rng.pick(from);
    if (used.has(i)) continue;
    used.add(i);
    out.push(i);
  }
  return out;
}

interface Draft {
  market: string;
  language: string;
  split: Split;
  q: QueryConcept;
  text: string;
  product: Product;
  label: Label;
  pairId: string;
}

/** What every phase of the generation reads: the lexicon, sizes, seed, renderer and the product pools. */
interface World {
  lex: Lexicon;
  size: MarketSize;
  seed: number;
  r: Renderer;
  judge: Judge;
  S: Lexicon['source'];
  T: Lexicon['target'];
  products: Product[];
  inMarket(m: string): Product[];
  srcPool: Product[];
  tgtPool: Product[];
  bothPool: Product[];
  /** Every pool product's label for a query's requirements (memoised per pool). */
  labelsFor(q: QueryConcept, pool: Product[], poolName: string): Label[];
}

function makeWorld(opts: GenerateOptions): World {
  const lex = typeof opts.lexicon === 'object' ? parseLexicon(opts.lexicon, 'object passed to generateMarket') : loadLexicon(opts.lexicon);
  const size: MarketSize = { ...PRESET_SIZES[opts.preset], ...opts.size };
  const r = new Renderer(lex);
  const judge = r.judge;
  const products = buildProducts(lex, r.aliasIndex, makeRng(opts.seed, 'products'), size.products);
  const inMarket = (m: string) => products.filter((p) => p.markets.includes(m));
  const srcPool = inMarket(lex.source.market), tgtPool = inMarket(lex.target.market);
  const labelCache = new Map<string, Label[]>();
  const labelsFor = (q: QueryConcept, pool: Product[], poolName: string) => {
    const key = `${poolName}|${JSON.stringify(q.req)}`;
    let ls = labelCache.get(key);
    if (!ls) { ls = pool.map((p) => judge.label(q.req, p)); labelCache.set(key, ls); }
    return ls;
  };
  return {
    lex, size, seed: opts.seed, r, judge, S: lex.source, T: lex.target, products, inMarket, srcPool, tgtPool,
    bothPool: srcPool.filter((p) => p.markets.includes(lex.target.market)), labelsFor,
  };
}

/**
 * Relevance samples before labels are noised: the test and dev sets drawn once and rendered in both
 * languages (pair_id links the twins for the transfer-gap metric, eq. 6), then each market's
 * training set. A query's products are never judged twice in a market.
 */
function drawSamples(w: World): Draft[] {
  const { lex, size, r, judge, S, T } = w;
  const drafts: Draft[] = [];
  const taken = new Map<string, Set<string>>(); // market|query text → products already judged
  let queryCounter = 0;
  const draw = (
    split: Split, pool: Product[], poolName: string, langs: { market: string; language: string }[], target: number,
    rng: Rng, paired: boolean,
  ) => {
    const weights = intentWeights(size.aliasShare, langs.some((l) => l.market === T.market));
    let made = 0;
    for (let guard = 0; made < target && guard < target * 20; guard++) {
      const intent = QUERY_INTENTS[rng.weighted(weights)];
      const q = makeQuery(lex, r, rng, intent, pool, langs.map((l) => l.language), `C${queryCounter++}`);
      if (!q) continue;
      const texts = langs.map((l) => r.query(q, l.language));
      if (texts.some((t) => !t)) continue;
      const labels = w.labelsFor(q, pool, poolName);
      const key = (i: number) => `${langs[i].market}|${texts[i]}`;
      const seen = new Set<string>();
      langs.forEach((_, i) => taken.get(key(i))?.forEach((p) => seen.add(p)));
      const picks = candidates(labels, pool, Math.min(size.perQuery, target - made), rng, judge, q, seen);
      for (const i of picks) {
        const pairId = paired ? `X${drafts.length}` : '';
        langs.forEach((l, j) => {
          drafts.push({ market: l.market, language: l.language, split, q, text: texts[j]!, product: pool[i], label: labels[i], pairId });
          const k = key(j);
          if (!taken.has(k)) taken.set(k, new Set());
          taken.get(k)!.add(pool[i].id);
        });
        made++;
      }
    }
  };
  draw('test', w.bothPool, 'both', [S, T], size.test, makeRng(w.seed, 'test'), true);
  draw('dev', w.bothPool, 'both', [S, T], size.dev, makeRng(w.seed, 'dev'), true);
  draw('train', w.srcPool, 'src', [S], size.sourceTrain, makeRng(w.seed, 'train-source'), false);
  draw('train', w.tgtPool, 'tgt', [T], size.targetTrain, makeRng(w.seed, 'train-target'), false);
  return drafts;
}

/** Each market's listing of every product sold there, and a lookup by market|product id. */
function listCatalogue(w: World): { catalogue: CatalogueRecord[]; listing: Map<string, CatalogueRecord> } {
  const catalogue: CatalogueRecord[] = [];
  const listing = new Map<string, CatalogueRecord>();
  for (const m of [w.S, w.T]) for (const p of w.inMarket(m.market)) {
    const c = catalogueRecord(w.r, p, m.market, m.language);
    catalogue.push(c);
    listing.set(`${m.market}|${p.id}`, c);
  }
  return { catalogue, listing };
}

/** Query ids numbered per market in the order their texts are first met. */
function queryIdNumbering(): (market: string, text: string) => string {
  const ids = new Map<string, string>();
  return (market, text) => {
    const k = `${market}|${text}`;
    let id = ids.get(k);
    if (!id) { id = `${market}-Q${String(ids.size).padStart(5, '0')}`; ids.set(k, id); }
    return id;
  };
}

/** The relevance records: each draft with its listing, its detected brand, and (training only) label noise. */
function relevanceRecords(w: World, drafts: Draft[], listing: Map<string, CatalogueRecord>, queryId: (market: string, text: string) => string): RelevanceRecord[] {
  const brandFinders = new Map([w.S, w.T].map((m) => [m.language, new BrandFinder(w.lex, m.language)]));
  const noiseRng = makeRng(w.seed, 'noise');
  return drafts.map((d) => {
    const c = listing.get(`${d.market}|${d.product.id}`)!;
    return {
      query_id: queryId(d.market, d.text),
      product_id: d.product.id,
      pair_id: d.pairId,
      market: d.market,
      language: d.language,
      split: d.split,
      intent: d.q.req.intent as Intent,
      query: d.text,
      query_brand: brandFinders.get(d.language)!.find(d.text),
      product_title: c.product_title,
      product_description: c.product_description,
      product_brand: c.product_brand,
      product_category: c.product_category,
      rqa: [],
      label: d.split === 'train' ? noisyLabel(d.label, w.size.noiseRate, noiseRng) : d.label,
      true_label: d.label,
    };
  });
}

/** The translation task's pairs: categories, brands, titles, queries and (with a bridge) words. */
function translationPairs(w: World, opts: GenerateOptions): TranslationPair[] {
  const { lex, size, r, S, T } = w;
  const trRng = makeRng(w.seed, 'translation');
  // Titles of products sold in both markets, re-rendered in other styles when more pairs are asked
  // for than there are products (a real title set has many listings per product concept).
  const titlePairs: [string, string][] = [];
  const variants = Math.max(1, Math.ceil((2 * size.translations.title) / Math.max(1, w.bothPool.length)));
  for (let v = 0; v < variants; v++) for (const p of w.bothPool) {
    const styled = v === 0 ? p : { ...p, style: trRng.int(1 << 16) };
    titlePairs.push([r.title(styled, S.language), r.title(styled, T.language)]);
  }
  const queryPairs: [string, string][] = [];
  const qRng = makeRng(w.seed, 'translation-queries');
  for (let i = 0, guard = 0; queryPairs.length < size.translations.query * 2 && guard < size.translations.query * 20; guard++) {
    const q = makeQuery(lex, r, qRng, QUERY_INTENTS[qRng.weighted(intentWeights(size.aliasShare, false))], w.srcPool, [S.language, T.language], `TQ${i++}`);
    const a = q && r.query(q, S.language), b = q && r.query(q, T.language);
    if (a && b) queryPairs.push([a, b]);
  }
  const translations = [
    ...samplePairs(lex, 'category', dictionaryPairs(lex, 'category'), size.translations.category, trRng),
    ...samplePairs(lex, 'brand', dictionaryPairs(lex, 'brand'), size.translations.brand, trRng),
    ...samplePairs(lex, 'title', titlePairs, size.translations.title, trRng),
    ...samplePairs(lex, 'query', queryPairs, size.translations.query, trRng),
  ];
  if (size.translations.word > 0) {
    if (!opts.bridge?.length) throw new Error('word translation pairs need a dictionary bridge (GenerateOptions.bridge)');
    translations.push(...samplePairs(lex, 'word', opts.bridge.map((b) => [b.source, b.target] as [string, string]), size.translations.word, makeRng(w.seed, 'translation-words')));
  }
  return translations;
}

/** Behaviour logs over every query each market's samples use. */
function behaviourLogs(w: World, drafts: Draft[], queryId: (market: string, text: string) => string): BehaviourRecord[] {
  const behaviour: BehaviourRecord[] = [];
  for (const [m, pool, sessions] of [[w.S, w.srcPool, w.size.sourceSessions], [w.T, w.tgtPool, w.size.targetSessions]] as const) {
    const byText = new Map<string, SessionQuery>();
    for (const d of drafts) {
      if (d.market !== m.market || byText.has(d.text)) continue;
      byText.set(d.text, { queryId: queryId(m.market, d.text), text: d.text, labels: w.labelsFor(d.q, pool, m === w.S ? 'src' : 'tgt') });
    }
    for (const b of simulateSessions(m.market, [...byText.values()], pool.map((p) => p.id), sessions, makeRng(w.seed, `sessions-${m.market}`))) behaviour.push(b);
  }
  return behaviour;
}

export function generateMarket(opts: GenerateOptions): Market {
  const w = makeWorld(opts);
  const drafts = drawSamples(w);
  const { catalogue, listing } = listCatalogue(w);
  const queryId = queryIdNumbering();
  const relevance = relevanceRecords(w, drafts, listing, queryId);
  const translations = translationPairs(w, opts);
  const behaviour = behaviourLogs(w, drafts, queryId);
  const market: Market = {
    lexicon: w.lex, size: w.size, source: w.S, target: w.T, products: w.products, catalogue, relevance, translations, behaviour,
    summary: undefined as unknown as MarketSummary,
    attributions: [
      `Lexicon: ${w.lex.name}.${w.lex.licence ? ' ' + w.lex.licence : ''}`,
      ...(w.size.translations.word > 0 && opts.bridgeAttribution ? [`Word pairs: ${opts.bridgeAttribution}`] : []),
    ],
  };
  market.summary = summarise(market, opts.preset, opts.seed);
  return market;
}

export function summarise(m: Market, preset: string, seed: number): MarketSummary {
  const relevance: MarketSummary['relevance'] = {};
  for (const mk of [m.source.market, m.target.market]) for (const split of ['train', 'dev', 'test'] as const) {
    const rs = m.relevance.filter((r) => r.market === mk && r.split === split);
    const labels: Record<string, number> = {};
    for (const l of LABELS) labels[l] = rs.filter((r) => r.label === l).length;
    const known = rs.filter((r) => r.true_label !== -1);
    relevance[`${mk}/${split}`] = {
      count: rs.length,
      labels,
      noiseRate: known.length ? known.filter((r) => r.label !== r.true_label).length / known.length : null,
      aliasShare: rs.length ? rs.filter((r) => r.intent === 'alias').length / rs.length : 0,
    };
  }
  const translations: Record<string, number> = {};
  for (const k of TRANSLATION_KINDS) translations[k] = m.translations.filter((t) => t.kind === k).length;
  const behaviour: MarketSummary['behaviour'] = {};
  for (const mk of [m.source.market, m.target.market]) {
    const bs = m.behaviour.filter((b) => b.market === mk);
    behaviour[mk] = {
      pairs: bs.length,
      impressions: bs.reduce((s, b) => s + b.impressions, 0),
      clicks: bs.reduce((s, b) => s + b.clicks, 0),
      purchases: bs.reduce((s, b) => s + b.purchases, 0),
    };
  }
  const products: Record<string, number> = {};
  for (const mk of [m.source.market, m.target.market]) products[mk] = m.catalogue.filter((c) => c.market === mk).length;
  return { preset, seed, lexicon: m.lexicon.name, products, relevance, translations, behaviour };
}
