// Nicknames and what they mean. An alias query asks for what its alias means: a line (its brand and
// type), a brand, a type, or a brand's type, with any attributes the alias fixes ("water fairy" = a
// sponge filter; a "dog shampoo" nickname = shampoo for pets). The products an alias names are those
// that meet its meaning exactly; their descriptions may mention it.
import type { AliasDef, Lexicon } from './lexicon.ts';
import type { Judge } from './judge.ts';
import type { ProductFacts, QueryRequirements } from './world.ts';

export function aliasRequirements(lex: Lexicon, a: AliasDef): Omit<QueryRequirements, 'intent'> {
  const m = a.means;
  const req: Omit<QueryRequirements, 'intent'> = {};
  if (m.line !== undefined) {
    const line = lex.lines.find((l) => l.id === m.line)!;
    req.line = line.id; req.brand = line.brand; req.type = line.type;
  } else {
    if (m.brand !== undefined) req.brand = m.brand;
    if (m.type !== undefined) req.type = m.type;
  }
  for (const k of ['audience', 'colour', 'material', 'size', 'pack'] as const) if (m[k] !== undefined) (req as Record<string, unknown>)[k] = m[k];
  return req;
}

/** Most specific first: a line, then a brand's type, a type, a brand; more fixed attributes first. */
function specificity(a: AliasDef): number {
  const m = a.means;
  const base = m.line !== undefined ? 400 : m.brand !== undefined && m.type !== undefined ? 300 : m.type !== undefined ? 200 : 100;
  return base + (['audience', 'colour', 'material', 'size', 'pack'] as const).filter((k) => m[k] !== undefined).length;
}

export class AliasIndex {
  private readonly fileOrder: { alias: AliasDef; req: QueryRequirements }[];
  private readonly ordered: { alias: AliasDef; req: QueryRequirements }[];
  private readonly inPoolCache = new WeakMap<readonly ProductFacts[], AliasDef[]>();
  constructor(lex: Lexicon, private readonly judge: Judge) {
    const all = lex.aliases.map((alias, i) => ({ alias, i, req: { intent: 'alias' as const, ...aliasRequirements(lex, alias) } }));
    this.fileOrder = all;
    this.ordered = [...all].sort((a, b) => specificity(b.alias) - specificity(a.alias) || a.i - b.i);
  }

  /** The aliases that name a product, most specific first. */
  naming(p: ProductFacts): AliasDef[] {
    return this.ordered.filter((x) => this.judge.label(x.req, p) === 2).map((x) => x.alias);
  }

  /** The aliases (in file order) that name at least one product of a pool: an alias query needs an exact match. */
  inPool(pool: readonly ProductFacts[]): AliasDef[] {
    let out = this.inPoolCache.get(pool);
    if (!out) {
      out = this.fileOrder.filter((x) => pool.some((p) => this.judge.label(x.req, p) === 2)).map((x) => x.alias);
      this.inPoolCache.set(pool, out);
    }
    return out;
  }
}
