// Query concepts of every intent. Each is drawn from a real product of the market (so exact matches
// exist) and the chosen template decides which of that product's attributes the query requires; an
// alias query is drawn from the aliases that name some product of the market.
import type { Intent } from '../schema.ts';
import { aliasRequirements } from './aliases.ts';
import { forms, type Lexicon } from './lexicon.ts';
import type { Renderer } from './render.ts';
import type { Rng } from './rng.ts';
import type { Product } from './catalogue.ts';
import type { QueryConcept, QueryRequirements } from './world.ts';

export const QUERY_INTENTS: readonly Intent[] = ['type', 'type_attr', 'brand', 'brand_type', 'category', 'english_brand', 'alias'];

/** Mix of intents other than alias (whose share is a preset knob); English brand names are commoner in the target market. */
export function intentWeights(aliasShare: number, target: boolean): number[] {
  const base = [0.16, 0.27, 0.08, 0.22, 0.05, target ? 0.12 : 0.04];
  const sum = base.reduce((a, b) => a + b, 0);
  return [...base.map((w) => (w / sum) * (1 - aliasShare)), aliasShare];
}

function slotValue(lex: Lexicon, p: Product, slot: string): boolean {
  const t = lex.types.find((x) => x.id === p.type)!;
  switch (slot) {
    case 'audience': return t.attrs.includes('audience') && p.audience !== 'all';
    case 'colour': return p.colour !== undefined;
    case 'material': return p.material !== undefined;
    case 'size': return p.size !== undefined;
    case 'pack': return p.pack !== undefined;
    default: return true;
  }
}

/**
 * A query concept of `intent`, or null when the products offer none (e.g. no line with a nickname
 * in every language of `langs`). `langs` are the languages the query must be sayable in.
 */
export function makeQuery(
  lex: Lexicon, r: Renderer, rng: Rng, intent: Intent, products: readonly Product[], langs: string[], id: string,
): QueryConcept | null {
  const style = rng.int(1 << 16);
  if (intent === 'alias') {
    const sayable = r.aliasIndex.inPool(products).filter((a) => langs.every((lang) => forms(a, lang).length > 0));
    if (!sayable.length) return null;
    const a = rng.pick(sayable);
    return { id, req: { intent, ...aliasRequirements(lex, a) }, alias: a.id, template: 0, style };
  }
  const p = rng.pick(products);
  const lang = langs[0];
  const n = lex.templates[lang].query[intent]?.length ?? 0;
  if (n === 0) return null;
  const usable = [...Array(n).keys()].filter((k) => r.querySlots(intent, k, lang).every((s) => slotValue(lex, p, s)));
  if (!usable.length) return null;
  const template = rng.pick(usable);
  const req: QueryRequirements = { intent };
  for (const s of r.querySlots(intent, template, lang)) {
    switch (s) {
      case 'type': req.type = p.type; break;
      case 'brand': case 'brand_en': req.brand = p.brand; break;
      case 'top': req.top = lex.types.find((t) => t.id === p.type)!.top; break;
      case 'audience': req.audience = p.audience; break;
      case 'colour': req.colour = p.colour; break;
      case 'material': req.material = p.material; break;
      case 'size': req.size = p.size; break;
      case 'pack': req.pack = p.pack; break;
    }
  }
  return { id, req, template, style };
}
