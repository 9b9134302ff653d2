// Text from truth: titles, descriptions, category paths and queries in one language. Choices that
// must agree across languages (template, synonym, promo word) come from the concept's `style`, so
// the two markets' texts of one product or query are translations of each other.
import { AliasIndex } from './aliases.ts';
import { Judge } from './judge.ts';
import { forms, type AliasDef, type Lexicon } from './lexicon.ts';
import type { ProductFacts, QueryConcept } from './world.ts';

export function fill(template: string, slots: Record<string, string>): string {
  const s = template.replace(/\{(\w+)\}/g, (_, k: string) => slots[k] ?? '');
  return s
    .replace(/\[\s*\]|【\s*】/g, '')
    .replace(/\s+,/g, ',')
    .replace(/,\s*$/g, '')
    .replace(/^\s*,\s*/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The k-th form, cycling: style numbers choose synonyms consistently across languages. */
function nth(xs: string[], k: number): string {
  return xs.length ? xs[k % xs.length] : '';
}

export class Renderer {
  private readonly byId: <T extends { id: string }>(xs: T[], id: string) => T;
  readonly judge: Judge;
  readonly aliasIndex: AliasIndex;
  constructor(private readonly lex: Lexicon) {
    this.judge = new Judge(lex);
    this.aliasIndex = new AliasIndex(lex, this.judge);
    const cache = new Map<unknown, Map<string, unknown>>();
    this.byId = <T extends { id: string }>(xs: T[], id: string): T => {
      let m = cache.get(xs) as Map<string, T> | undefined;
      if (!m) { m = new Map(xs.map((x) => [x.id, x])); cache.set(xs, m); }
      const v = m.get(id);
      if (!v) throw new Error(`unknown id '${id}'`);
      return v;
    };
  }

  typeName(id: string, lang: string, k = 0) { return nth(forms(this.byId(this.lex.types, id), lang), k); }
  topName(id: string, lang: string) { return nth(forms(this.byId(this.lex.top, id), lang), 0); }
  brandName(id: string, lang: string, k = 0) { return nth(forms(this.byId(this.lex.brands, id), lang), k); }
  brandEnglish(id: string) { return this.byId(this.lex.brands, id).name; }
  lineName(id: string, lang: string) { return nth(forms(this.byId(this.lex.lines, id), lang), 0); }
  aliasForms(id: string, lang: string) { return forms(this.byId(this.lex.aliases, id), lang); }
  attrName(kind: 'colour' | 'material' | 'size' | 'audience', id: string, lang: string, k = 0) {
    return nth(forms(this.byId(this.lex.attributes[kind], id), lang), k);
  }
  /** A pack count with the type's counter word ("5개입", "3把"). */
  packName(n: number, typeId: string, lang: string, k = 0) {
    const counter = this.byId(this.lex.attributes.pack, this.byId(this.lex.types, typeId).counter ?? this.lex.attributes.pack[0].id);
    return nth(forms(counter, lang), k).replace('{n}', String(n));
  }

  categoryPath(typeId: string, lang: string): string {
    const t = this.byId(this.lex.types, typeId);
    return `${this.topName(t.top, lang)} > ${this.typeName(t.id, lang, 0)}`;
  }

  /** Brand as the listing shows it: the market's name, the English name, or both (as in "OTTOGI 不倒翁"). */
  listedBrand(id: string, lang: string, style: number): string {
    const local = this.brandName(id, lang);
    const en = this.brandEnglish(id);
    switch (style % 5) {
      case 3: return en;
      case 4: return local === en ? en : `${en.toUpperCase()} ${local}`;
      default: return local;
    }
  }

  private productSlots(p: ProductFacts, lang: string): Record<string, string> {
    const s = p.style;
    const t = this.byId(this.lex.types, p.type);
    const line = p.line ? this.lineName(p.line, lang) : '';
    const type = this.typeName(p.type, lang, s >> 3);
    return {
      brand: this.listedBrand(p.brand, lang, s),
      line,
      // A line name that already says the type ("허니버터칩") is not followed by it again.
      type: line && line.includes(type) ? '' : type,
      top: this.topName(t.top, lang),
      audience: p.audience && t.attrs.includes('audience') ? this.attrName('audience', p.audience, lang, s >> 5) : '',
      colour: p.colour ? this.attrName('colour', p.colour, lang, s >> 6) : '',
      material: p.material ? this.attrName('material', p.material, lang, s >> 7) : '',
      size: p.size ? this.attrName('size', p.size, lang, s >> 12) : '',
      pack: p.pack !== undefined ? this.packName(p.pack, p.type, lang, s >> 8) : '',
      promo: (s >> 9) % 3 === 0 ? nth(forms(this.lex.promo, lang), s >> 11) : '',
    };
  }

  title(p: ProductFacts, lang: string): string {
    return fill(nth(this.lex.templates[lang].title, p.style >> 1), this.productSlots(p, lang));
  }

  /** Description: an intro, one sentence per attribute, and sometimes the line's nickname. */
  description(p: ProductFacts, lang: string, withAlias: boolean): string {
    const tpl = this.lex.templates[lang];
    const slots = this.productSlots(p, lang);
    const parts = [fill(nth(tpl.description, p.style >> 2), slots)];
    for (const kind of ['colour', 'material', 'size', 'pack', 'audience'] as const) {
      const sentence = tpl.attribute[kind];
      if (sentence && slots[kind]) parts.push(fill(sentence, slots));
    }
    const named: AliasDef | undefined = withAlias ? this.aliasIndex.naming(p)[0] : undefined;
    const aliases = named ? forms(named, lang) : [];
    if (aliases.length) parts.push(fill(nth(tpl.alias, p.style >> 4), { alias: nth(aliases, p.style >> 10) }));
    return parts.join(' ');
  }

  /** The query in `lang`, or null when the concept cannot be said there (an alias with no nickname in it). */
  query(q: QueryConcept, lang: string): string | null {
    const r = q.req;
    const templates = this.lex.templates[lang].query[r.intent];
    if (!templates?.length) return null;
    const s = q.style;
    let alias = '';
    if (r.intent === 'alias') {
      const as = q.alias ? this.aliasForms(q.alias, lang) : [];
      if (!as.length) return null;
      alias = nth(as, s);
    }
    const slots: Record<string, string> = {
      type: r.type ? this.typeName(r.type, lang, s >> 1) : '',
      brand: r.brand ? this.brandName(r.brand, lang) : '',
      brand_en: r.brand ? this.brandEnglish(r.brand) : '',
      top: r.top ? this.topName(r.top, lang) : '',
      audience: r.audience ? this.attrName('audience', r.audience, lang, s >> 2) : '',
      colour: r.colour ? this.attrName('colour', r.colour, lang, s >> 3) : '',
      material: r.material ? this.attrName('material', r.material, lang, s >> 4) : '',
      size: r.size ? this.attrName('size', r.size, lang, s >> 6) : '',
      pack: r.pack !== undefined && r.type ? this.packName(r.pack, r.type, lang, s >> 5) : '',
      alias,
    };
    return fill(nth(templates, q.template), slots);
  }

  /** The placeholders a query template uses: they decide which attributes the query requires. */
  querySlots(intent: string, template: number, lang: string): string[] {
    const t = nth(this.lex.templates[lang].query[intent] ?? [], template);
    return [...t.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  }
}
