// The paper's labelling rules (section 2), applied to the hidden truth (DATA_CARD.md, "Labels"):
//   exact (2)      every requirement of the query holds;
//   substitute (1) the function matches, but the brand, the product line, the exact type or an
//                  attribute the query's type lists as `negotiable` differs;
//   irrelevant (0) the function differs, the audience conflicts (pet vs human, woman vs man, kid
//                  vs adult), or an attribute the query's type lists as `non_negotiable` differs
//                  (a queen sheet for a single-bed query), a product without it included.
import type { Label } from '../schema.ts';
import type { Lexicon, TypeDef } from './lexicon.ts';
import type { ProductFacts, QueryRequirements } from './world.ts';

const HUMAN_ANY = 'all';

/** Whether a product for audience `p` can serve a query for audience `q`. */
export function audienceCompatible(q: string, p: string): boolean {
  if (q === p) return true;
  if (q === 'pet' || p === 'pet') return false;
  if (q === HUMAN_ANY || p === HUMAN_ANY) return true;
  if (p === 'unisex') return q === 'woman' || q === 'man';
  if (q === 'unisex') return p === 'woman' || p === 'man';
  return false;
}

/** Whether audience `p` meets a query for `q` fully (compatible but not exact is a substitute). */
export function audienceExact(q: string, p: string): boolean {
  return q === p || q === HUMAN_ANY || (p === 'unisex' && (q === 'woman' || q === 'man'));
}

/** A query for a type without an audience word still means the type's audience: a shampoo query wants human shampoo. */
export function impliedAudience(t: TypeDef): string {
  return t.audiences.every((a) => a === 'pet') ? 'pet' : HUMAN_ANY;
}

export class Judge {
  private readonly types: Map<string, TypeDef>;
  private readonly brandFunctions: Map<string, Set<string>>;
  constructor(private readonly lex: Lexicon) {
    this.types = new Map(lex.types.map((t) => [t.id, t]));
    this.brandFunctions = new Map(lex.brands.map((b) => [b.id, new Set(b.types.map((t) => this.type(t).function))]));
  }

  type(id: string): TypeDef {
    const t = this.types.get(id);
    if (!t) throw new Error(`unknown type '${id}'`);
    return t;
  }

  label(q: QueryRequirements, p: ProductFacts): Label {
    const pt = this.type(p.type);
    // A category query asks for anything in the category.
    if (q.top !== undefined) return pt.top === q.top ? 2 : 0;
    let sameType = true;
    let wantAudience = q.audience;
    if (q.type !== undefined) {
      const qt = this.type(q.type);
      if (qt.function !== pt.function) return 0;
      sameType = qt.id === pt.id;
      wantAudience ??= impliedAudience(qt);
    } else if (q.brand !== undefined && q.line === undefined) {
      // A bare brand query wants that brand's products; another brand's product of a function the
      // brand also sells is a substitute; anything else is irrelevant.
      if (p.brand === q.brand) return 2;
      return this.brandFunctions.get(q.brand)?.has(pt.function) ? 1 : 0;
    }
    if (wantAudience !== undefined && !audienceCompatible(wantAudience, p.audience)) return 0;
    if (q.type !== undefined) for (const k of this.type(q.type).non_negotiable) if (q[k] !== undefined && q[k] !== p[k]) return 0;
    const exact = sameType
      && (wantAudience === undefined || audienceExact(wantAudience, p.audience))
      && (q.brand === undefined || q.brand === p.brand)
      && (q.line === undefined || q.line === p.line)
      && (q.colour === undefined || q.colour === p.colour)
      && (q.material === undefined || q.material === p.material)
      && (q.size === undefined || q.size === p.size)
      && (q.pack === undefined || q.pack === p.pack);
    return exact ? 2 : 1;
  }
}
