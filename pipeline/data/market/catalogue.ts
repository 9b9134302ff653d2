// Product concepts: every product line first (so each nickname has products to point at), then
// ordinary products of random type and brand. Each product is listed in the source market, the
// target market, or both: a cross-border catalogue overlaps but is not identical.
import type { CatalogueRecord } from '../schema.ts';
import type { AliasIndex } from './aliases.ts';
import type { Lexicon, TypeDef } from './lexicon.ts';
import type { Renderer } from './render.ts';
import type { Rng } from './rng.ts';
import type { ProductFacts } from './world.ts';

const SOURCE_SHARE = 0.9;
const TARGET_SHARE = 0.75;
/** Share of products named by an alias whose description mentions it: retrieval can find the rest by title. */
const ALIAS_IN_DESCRIPTION = 0.6;

export interface Product extends ProductFacts {
  aliasInDescription: boolean;
}

function makeProduct(aliases: AliasIndex, rng: Rng, t: TypeDef, brand: string, line: string, markets: string[], index: number): Product {
  const has = (k: string) => t.attrs.includes(k as never);
  const p: Product = {
    id: `P${String(index).padStart(5, '0')}`,
    type: t.id,
    brand,
    line,
    audience: rng.pick(t.audiences),
    colour: has('colour') ? rng.pick(t.colours!) : undefined,
    material: has('material') ? rng.pick(t.materials!) : undefined,
    size: has('size') ? rng.pick(t.sizes!) : undefined,
    pack: has('pack') ? rng.pick(t.packs!) : undefined,
    markets,
    style: rng.int(1 << 16),
    aliasInDescription: false,
  };
  p.aliasInDescription = aliases.naming(p).length > 0 && rng.chance(ALIAS_IN_DESCRIPTION);
  return p;
}

export function buildProducts(lex: Lexicon, aliases: AliasIndex, rng: Rng, count: number): Product[] {
  const types = new Map(lex.types.map((t) => [t.id, t]));
  const both = [lex.source.market, lex.target.market];
  const out: Product[] = [];
  for (const line of lex.lines) {
    const k = 2 + rng.int(3);
    for (let i = 0; i < k; i++) out.push(makeProduct(aliases, rng, types.get(line.type)!, line.brand, line.id, both, out.length));
  }
  const sellers = lex.types.map((t) => ({ t, brands: lex.brands.filter((b) => b.types.includes(t.id)).map((b) => b.id) }))
    .filter((s) => s.brands.length > 0);
  while (out.length < count) {
    const s = rng.pick(sellers);
    const markets = [];
    if (rng.chance(SOURCE_SHARE)) markets.push(lex.source.market);
    if (rng.chance(TARGET_SHARE)) markets.push(lex.target.market);
    if (markets.length === 0) markets.push(lex.source.market);
    out.push(makeProduct(aliases, rng, s.t, rng.pick(s.brands), '', markets, out.length));
  }
  return out;
}

export function catalogueRecord(r: Renderer, p: Product, market: string, language: string): CatalogueRecord {
  return {
    market,
    language,
    product_id: p.id,
    product_title: r.title(p, language),
    product_description: r.description(p, language, p.aliasInDescription),
    product_brand: r.listedBrand(p.brand, language, 0),
    product_category: r.categoryPath(p.type, language),
  };
}
