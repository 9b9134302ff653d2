// Dictionary reading of a query, the way the paper fills "query brand" ("matched by a pre-defined
// dictionary", Table 1): words are matched longest first at token starts (tokens.ts), over every
// surface form the lexicon knows. Used for query_brand and to check that rendered queries say what
// their concept means.
import { forms, VALUE_KINDS, type Lexicon } from './lexicon.ts';
import { aliasRequirements } from './aliases.ts';
import { Dictionary, type PatternMatcher } from './tokens.ts';
import type { QueryRequirements } from './world.ts';

type Entry =
  | { kind: 'alias' | 'brand' | 'brand_en' | 'type' | 'top' | 'colour' | 'material' | 'audience' | 'size'; id: string }
  | { kind: 'pack'; n: number };

/**
 * The lexicon's words in one language. Nicknames are left out unless asked for: a brand dictionary
 * does not know them (what an alias means is for RQA to find out), and a word inside a nickname is
 * then read as the word (小米 in 小米行充).
 */
export function lexiconDictionary(lex: Lexicon, lang: string, opts: { aliases: boolean }): Dictionary<Entry> {
  const d = new Dictionary<Entry>();
  if (opts.aliases) for (const a of lex.aliases) for (const f of forms(a, lang)) d.add(f, { kind: 'alias', id: a.id });
  for (const t of lex.types) for (const f of forms(t, lang)) d.add(f, { kind: 'type', id: t.id });
  for (const b of lex.brands) { for (const f of forms(b, lang)) d.add(f, { kind: 'brand', id: b.id }); d.add(b.name, { kind: 'brand_en', id: b.id }); }
  for (const t of lex.top) for (const f of forms(t, lang)) d.add(f, { kind: 'top', id: t.id });
  for (const k of ['colour', 'material', 'audience', 'size'] as const)
    for (const c of lex.attributes[k]) for (const f of forms(c, lang)) d.add(f, { kind: k, id: c.id });
  return d;
}

/** Pack counts said with any counter of the language ("5개입", "5入", "paquete de 5"). */
function packMatchers(lex: Lexicon, lang: string): PatternMatcher<Entry>[] {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return lex.attributes.pack.flatMap((c) => forms(c, lang)).map((f) => {
    const re = new RegExp('^' + escape(f.toLowerCase()).replace('\\{n\\}', '(\\d+)'));
    return (rest: string) => {
      const m = re.exec(rest);
      return m ? { length: m[0].length, value: { kind: 'pack', n: Number(m[1]) } } : null;
    };
  });
}

/** Finds the brand a query names, as written there ('' when none): the longest brand word among its tokens. */
export class BrandFinder {
  private readonly dict: Dictionary<Entry>;
  constructor(lex: Lexicon, lang: string) { this.dict = lexiconDictionary(lex, lang, { aliases: false }); }

  find(text: string): string {
    let best = '';
    for (const t of this.dict.tokens(text))
      if (t.text.length > best.length && t.values.some((v) => v.kind === 'brand' || v.kind === 'brand_en')) best = t.text;
    return best;
  }
}

export class QueryReader {
  private readonly dict: Dictionary<Entry>;
  private readonly packs: PatternMatcher<Entry>[];
  constructor(private readonly lex: Lexicon, lang: string) {
    this.dict = lexiconDictionary(lex, lang, { aliases: true });
    this.packs = packMatchers(lex, lang);
  }

  read(text: string): QueryRequirements {
    const req: QueryRequirements = { intent: 'unknown' };
    let english = false, alias = false;
    for (const tok of this.dict.tokens(text, this.packs)) {
      const hit = tok.values[0];
      switch (hit.kind) {
        case 'pack': req.pack = hit.n; break;
        case 'alias': Object.assign(req, aliasRequirements(this.lex, this.lex.aliases.find((a) => a.id === hit.id)!)); alias = true; break;
        case 'brand_en': english = true; req.brand = hit.id; break;
        case 'brand': req.brand = hit.id; break;
        case 'type': req.type = hit.id; break;
        case 'top': req.top = hit.id; break;
        default: req[hit.kind] = hit.id;
      }
    }
    const attrs = req.audience ?? VALUE_KINDS.map((k) => req[k]).find((v) => v !== undefined);
    req.intent = alias ? 'alias'
      : req.top && !req.type && !req.brand ? 'category'
      : req.brand && req.type ? (english ? 'english_brand' : 'brand_type')
      : req.brand ? 'brand'
      : req.type ? (attrs !== undefined ? 'type_attr' : 'type')
      : 'unknown';
    return req;
  }
}
