// The ceiling of the task: can a sample's label be decided from what a rater sees — the query, the
// title, brand, category and description — alone? The oracle reads the visible text with the
// lexicon's dictionary (the same reader that checks rendered queries), rebuilds the product's facts
// from it (type from the category path, brand from the brand field, attributes, audience and product
// line from title and description) and applies the judge's rules. Where its label differs from the
// generator's truth, the text does not say what decided the label (for instance an alias query whose
// product line shows neither its name nor its nickname), and no model can get that sample right
// without knowledge beyond the sample (the catalogue, behaviour logs: what RQA brings).
import type { Label, RelevanceRecord } from '../schema.ts';
import { forms, type Lexicon } from './lexicon.ts';
import { QueryReader } from './interpret.ts';
import { Judge, impliedAudience } from './judge.ts';
import type { ProductFacts } from './world.ts';

export interface Decidability {
  samples: number;
  /** Share of samples whose label the oracle reads off the text (the F1 ceiling of a text-only model). */
  decidable: number;
  /** Undecidable samples by `intent:true→oracle`, most frequent first. */
  misses: [string, number][];
}

export class TextOracle {
  private readonly reader: QueryReader;
  private readonly judge: Judge;
  private readonly typeByName = new Map<string, string>();
  private readonly brandByName = new Map<string, string>();
  private readonly lineByName: [string, string][] = [];
  constructor(private readonly lex: Lexicon, lang: string) {
    this.reader = new QueryReader(lex, lang);
    this.judge = new Judge(lex);
    for (const t of lex.types) for (const f of forms(t, lang)) this.typeByName.set(f, t.id);
    for (const b of lex.brands) { for (const f of forms(b, lang)) this.brandByName.set(f.toLowerCase(), b.id); this.brandByName.set(b.name.toLowerCase(), b.id); }
    for (const l of lex.lines) for (const f of forms(l, lang)) this.lineByName.push([f, l.id]);
    this.lineByName.sort((a, b) => b[0].length - a[0].length);
  }

  /** The product as its listing shows it. */
  productFacts(r: RelevanceRecord): ProductFacts | null {
    const path = r.product_category.split(' > ');
    const text = `${r.product_title} ${r.product_description}`;
    const seen = this.reader.read(text);
    const type = this.typeByName.get(path[path.length - 1]!.trim()) ?? seen.type;
    if (type === undefined) return null;
    const t = this.lex.types.find((x) => x.id === type)!;
    const brand = this.brandByName.get(r.product_brand.toLowerCase()) ?? seen.brand ?? '';
    // a line shows by its name in the title or by a nickname in the description
    const line = this.lineByName.find(([f]) => text.includes(f))?.[1] ?? seen.line ?? '';
    const audience = seen.audience ?? (t.audiences.length === 1 ? t.audiences[0]! : impliedAudience(t));
    return { id: r.product_id, type, brand, line, audience, colour: seen.colour, material: seen.material, size: seen.size, pack: seen.pack, markets: [], style: 0 };
  }

  /** The label the visible text decides, or null when the text names no product type at all. */
  label(r: RelevanceRecord): Label | null {
    const p = this.productFacts(r);
    if (!p) return null;
    const q = this.reader.read(r.query);
    try { return this.judge.label(q, p); } catch { return null; }
  }
}

/** How many of the records' true labels the oracle reads off the text (records of one language). */
export function decidability(lex: Lexicon, lang: string, records: readonly RelevanceRecord[]): Decidability {
  const o = new TextOracle(lex, lang);
  const misses = new Map<string, number>();
  let ok = 0;
  for (const r of records) {
    const l = o.label(r);
    if (l === r.true_label) { ok++; continue; }
    const k = `${r.intent}:${r.true_label}→${l ?? '?'}`;
    misses.set(k, (misses.get(k) ?? 0) + 1);
  }
  return { samples: records.length, decidable: records.length ? ok / records.length : NaN, misses: [...misses].sort((a, b) => b[1] - a[1]) };
}
