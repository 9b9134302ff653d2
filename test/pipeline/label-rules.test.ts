// The label rules of DATA_CARD.md ("Labels"), one table row per rule, on a lexicon written for them
// (fixtures/rules-lexicon.json): each query is read from its text in both languages and judged
// against a product's hidden facts.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateMarket } from '../../pipeline/data/market/generate.ts';
import { QueryReader } from '../../pipeline/data/market/interpret.ts';
import { Judge } from '../../pipeline/data/market/judge.ts';
import { loadLexicon } from '../../pipeline/data/market/lexicon.ts';
import type { ProductFacts } from '../../pipeline/data/market/world.ts';

const RULES = join(import.meta.dirname, 'fixtures/rules-lexicon.json');
const lex = loadLexicon(RULES);
const judge = new Judge(lex);
const en = new QueryReader(lex, 'en');
const es = new QueryReader(lex, 'es');

function product(over: Partial<ProductFacts> & Pick<ProductFacts, 'type' | 'brand'>): ProductFacts {
  return { id: 'P', line: '', audience: 'all', markets: ['US', 'MX'], style: 0, ...over };
}

const table: [rule: string, en: string, es: string, p: ProductFacts, label: 0 | 1 | 2][] = [
  // Category queries.
  ['category: a product of the top category is exact', 'bedding', 'ropa de cama', product({ type: 'duvet', brand: 'dormir', size: 'king', material: 'down' }), 2],
  ['category: any other product is irrelevant', 'bedding', 'ropa de cama', product({ type: 'santoku', brand: 'filo' }), 0],
  // Bare brand queries.
  ['brand: its own product is exact', 'Acme', 'Acme', product({ type: 'duvet', brand: 'acme', size: 'queen', material: 'cotton' }), 2],
  ['brand: another brand\'s product of a function it sells is a substitute', 'Acme', 'Acme', product({ type: 'sheet', brand: 'dormir', size: 'single' }), 1],
  ['brand: a function it does not sell is irrelevant', 'Acme', 'Acme', product({ type: 'chef_knife', brand: 'filo', material: 'steel' }), 0],
  // Typed queries: function, type, brand, line.
  ['type: the type is exact', 'santoku', 'santoku', product({ type: 'santoku', brand: 'kuro', material: 'steel', size: '18cm' }), 2],
  ['type: another type of the function is a substitute', 'santoku', 'santoku', product({ type: 'chef_knife', brand: 'kuro', material: 'steel' }), 1],
  ['type: another function is irrelevant', 'santoku', 'santoku', product({ type: 'sheet', brand: 'acme', size: 'queen' }), 0],
  ['brand + type: another brand is a substitute', 'Acme sheet', 'sábana Acme', product({ type: 'sheet', brand: 'dormir', size: 'queen' }), 1],
  ['brand + type: the brand\'s type is exact', 'Acme sheet', 'sábana Acme', product({ type: 'sheet', brand: 'acme', size: 'queen' }), 2],
  // Audience.
  ['audience: a query without an audience word means its type\'s audience (pet shampoo for "shampoo")', 'shampoo', 'champú', product({ type: 'pet_shampoo', brand: 'lavo', audience: 'pet', size: 'regular' }), 0],
  ['audience: woman vs man is irrelevant', 'women\'s shirt', 'camisa mujer', product({ type: 'shirt', brand: 'norte', audience: 'man', colour: 'red' }), 0],
  ['audience: unisex serves a women\'s query fully', 'women\'s shirt', 'camisa mujer', product({ type: 'shirt', brand: 'norte', audience: 'unisex', colour: 'red' }), 2],
  ['audience: a women\'s product for a unisex query is a substitute', 'unisex shirt', 'camisa unisex', product({ type: 'shirt', brand: 'norte', audience: 'woman', colour: 'red' }), 1],
  ['audience: kid vs adult is irrelevant', 'kids\' shirt', 'camisa niños', product({ type: 'shirt', brand: 'norte', audience: 'man', colour: 'red' }), 0],
  // Negotiable and non-negotiable attributes of the query's type.
  ['negotiable: another colour is a substitute', 'red sheet', 'sábana rojo', product({ type: 'sheet', brand: 'acme', colour: 'white', size: 'queen' }), 1],
  ['non-negotiable: another size is irrelevant (a queen sheet for a single bed)', 'single sheet', 'sábana individual', product({ type: 'sheet', brand: 'acme', size: 'queen' }), 0],
  ['non-negotiable: the same size is exact', 'queen sheet', 'sábana matrimonial', product({ type: 'sheet', brand: 'acme', size: 'queen' }), 2],
  ['non-negotiable: another type of the function with the size is a substitute', 'queen sheet', 'sábana matrimonial', product({ type: 'fitted_sheet', brand: 'acme', size: 'queen' }), 1],
  ['non-negotiable: another type of the function with another size is irrelevant', 'queen sheet', 'sábana matrimonial', product({ type: 'fitted_sheet', brand: 'acme', size: 'single' }), 0],
  ['non-negotiable: a product without the attribute conflicts', 'ceramic chef knife', 'cuchillo de chef de cerámica', product({ type: 'paring_knife', brand: 'filo', size: '9cm' }), 0],
  ['non-negotiable is the query type\'s: ceramic chef knife × steel santoku is irrelevant', 'ceramic chef knife', 'cuchillo de chef de cerámica', product({ type: 'santoku', brand: 'filo', material: 'steel', size: '18cm' }), 0],
  ['non-negotiable is the query type\'s: ceramic santoku × steel chef knife is a substitute', 'ceramic santoku', 'santoku de cerámica', product({ type: 'chef_knife', brand: 'filo', material: 'steel', size: '21cm' }), 1],
  ['negotiable: another pack is a substitute', 'set of 2 chef knife', 'cuchillo de chef juego de 2', product({ type: 'chef_knife', brand: 'kuro', material: 'steel', pack: 1 }), 1],
  ['negotiable: the same pack is exact', 'set of 2 chef knife', 'cuchillo de chef juego de 2', product({ type: 'chef_knife', brand: 'kuro', material: 'ceramic', pack: 2 }), 2],
  ['negotiable: a localised size that differs is a substitute', 'travel size shampoo', 'champú de viaje', product({ type: 'shampoo', brand: 'lavo', size: 'regular' }), 1],
  // Aliases of each kind.
  ['alias of a line: the line is exact', 'the blade', 'la navaja', product({ type: 'chef_knife', brand: 'filo', line: 'filo_pro', material: 'steel' }), 2],
  ['alias of a line: the brand\'s product outside the line is a substitute', 'the blade', 'la navaja', product({ type: 'chef_knife', brand: 'filo', material: 'steel' }), 1],
  ['alias of a line: another brand\'s product of the function is a substitute', 'the blade', 'la navaja', product({ type: 'santoku', brand: 'kuro', material: 'ceramic' }), 1],
  ['alias of a line: another function is irrelevant', 'the blade', 'la navaja', product({ type: 'duvet', brand: 'acme', size: 'king' }), 0],
  ['alias of a brand: its own product is exact', 'blue house', 'casa azul', product({ type: 'fitted_sheet', brand: 'acme', size: 'single' }), 2],
  ['alias of a brand: another brand\'s product of a function it sells is a substitute', 'blue house', 'casa azul', product({ type: 'duvet', brand: 'dormir', size: 'single' }), 1],
  ['alias of a type: every brand\'s product of the type is exact', 'veggie slicer', 'picaverduras', product({ type: 'santoku', brand: 'kuro', material: 'ceramic' }), 2],
  ['alias of a type: another type of the function is a substitute', 'veggie slicer', 'picaverduras', product({ type: 'chef_knife', brand: 'filo', material: 'steel' }), 1],
  ['alias of a type with a fixed attribute: the attribute holds, exact', 'mini wash', 'champucito', product({ type: 'shampoo', brand: 'norte', size: 'travel' }), 2],
  ['alias of a type with a fixed negotiable attribute: another value is a substitute', 'mini wash', 'champucito', product({ type: 'shampoo', brand: 'norte', size: 'regular' }), 1],
  ['alias of a type with a fixed non-negotiable attribute: another value is irrelevant', 'big bed sheet', 'sabanón', product({ type: 'sheet', brand: 'dormir', size: 'single' }), 0],
  ['alias of a type: its type\'s audience holds (mini wash × pet shampoo)', 'mini wash', 'champucito', product({ type: 'pet_shampoo', brand: 'lavo', audience: 'pet', size: 'regular' }), 0],
  ['alias of a brand\'s type: that brand\'s type is exact', 'the cloud', 'la nube', product({ type: 'duvet', brand: 'dormir', size: 'king', material: 'down' }), 2],
  ['alias of a brand\'s type: another brand is a substitute', 'the cloud', 'la nube', product({ type: 'duvet', brand: 'acme', size: 'king', material: 'down' }), 1],
];

describe('label rules (DATA_CARD.md), one row per rule', () => {
  for (const [rule, qEn, qEs, p, want] of table) {
    it(`${rule}: "${qEn}" / "${qEs}" → ${want}`, () => {
      expect(judge.label(en.read(qEn), p)).toBe(want);
      expect(judge.label(es.read(qEs), p)).toBe(want);
    });
  }
});

describe('a market of the rules lexicon', () => {
  const m = generateMarket({ preset: 'tiny', seed: 3, lexicon: RULES });
  const products = new Map(m.products.map((p) => [p.id, p]));
  const readers: Record<string, QueryReader> = { en, es };

  it('labels every sample as its query text reads', () => {
    for (const r of m.relevance) {
      const q = readers[r.language].read(r.query);
      expect(judge.label(q, products.get(r.product_id)!), `${r.query} × ${r.product_title}`).toBe(r.true_label);
      // A brand whose local name is its English name cannot show that it was typed in English.
      expect(q.intent === 'brand_type' && r.intent === 'english_brand' ? 'english_brand' : q.intent).toBe(r.intent);
    }
  });

  it('asks alias queries of every kind, and mentions aliases in the descriptions of what they name', () => {
    const said = new Set(m.relevance.filter((r) => r.intent === 'alias').map((r) => r.query));
    expect([...said].sort()).toEqual(expect.arrayContaining(['big bed sheet', 'blue house', 'mini wash', 'the blade', 'veggie slicer']));
    const descriptions = m.catalogue.map((c) => c.product_description).join('\n');
    expect(descriptions).toMatch(/Known as veggie slicer\./);
    expect(descriptions).toMatch(/Conocido como la navaja\./);
  });

  it('writes localised sizes and each type\'s counter', () => {
    const titles = m.catalogue.map((c) => c.product_title);
    expect(titles.some((t) => / matrimonial/.test(t))).toBe(true);
    expect(titles.some((t) => /juego de [12]/.test(t))).toBe(true);
    expect(titles.some((t) => / queen /.test(t) || t.endsWith(' queen'))).toBe(true);
  });
});
