// Dictionary reading of a query, the way the paper fills "query brand" ("matched by a pre-defined
// dictionary", Table 1): longest match first over every surface form the lexicon knows. Used for
// query_brand and to check that rendered queries say what their concept means.
import { forms, type Lexicon } from './lexicon.ts';
import type { QueryRequirements } from './world.ts';

/** The longest dictionary brand name found in the text, as written there; '' when none. */
export function findBrand(text: string, brandNames: string[]): string {
  const low = text.toLowerCase();
  let best = '';
  for (const b of brandNames) {
    if (b.length <= best.length) continue;
    const at = low.indexOf(b.toLowerCase());
    if (at >= 0) best = text.slice(at, at + b.length);
  }
  return best;
}

type Entry = { kind: 'line' | 'brand' | 'brand_en' | 'type' | 'top' | 'colour' | 'material' | 'audience' | 'size'; id: string };

export class QueryReader {
  private readonly entries = new Map<string, Entry>();
  private readonly maxLen: number;
  private readonly packRes: RegExp[];
  constructor(private readonly lex: Lexicon, lang: string) {
    const add = (surface: string, e: Entry) => { if (surface && !this.entries.has(surface.toLowerCase())) this.entries.set(surface.toLowerCase(), e); };
    for (const l of lex.lines) for (const a of l.aliases[lang] ?? []) add(a, { kind: 'line', id: l.id });
    for (const t of lex.types) for (const f of forms(t, lang)) add(f, { kind: 'type', id: t.id });
    for (const b of lex.brands) { for (const f of forms(b, lang)) add(f, { kind: 'brand', id: b.id }); add(b.en, { kind: 'brand_en', id: b.id }); }
    for (const t of lex.top) for (const f of forms(t, lang)) add(f, { kind: 'top', id: t.id });
    for (const k of ['colour', 'material', 'audience'] as const)
      for (const c of lex.attributes[k]) for (const f of forms(c, lang)) add(f, { kind: k, id: c.id });
    for (const t of lex.types) for (const s of t.sizes ?? []) add(s, { kind: 'size', id: s });
    this.maxLen = Math.max(...[...this.entries.keys()].map((k) => k.length));
    this.packRes = forms(lex.attributes.pack, lang).map((f) => new RegExp('^' + f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace('\\{n\\}', '(\\d+)')));
  }

  read(text: string): QueryRequirements {
    const req: QueryRequirements = { intent: 'unknown' };
    const low = text.toLowerCase();
    let english = false;
    for (let i = 0; i < low.length;) {
      const pack = this.packRes.map((re) => re.exec(low.slice(i))).find((m) => m);
      let hit: Entry | undefined, len = 0;
      for (let n = Math.min(this.maxLen, low.length - i); n > 0; n--) {
        const e = this.entries.get(low.slice(i, i + n));
        if (e) { hit = e; len = n; break; }
      }
      if (pack && pack[0].length > len) { req.pack = Number(pack[1]); i += pack[0].length; continue; }
      if (!hit) { i++; continue; }
      i += len;
      switch (hit.kind) {
        case 'line': {
          const l = this.lex.lines.find((x) => x.id === hit.id)!;
          req.line = l.id; req.brand = l.brand; req.type = l.type;
          break;
        }
        case 'brand_en': english = true; req.brand = hit.id; break;
        case 'brand': req.brand = hit.id; break;
        case 'type': req.type = hit.id; break;
        case 'top': req.top = hit.id; break;
        case 'colour': req.colour = hit.id; break;
        case 'material': req.material = hit.id; break;
        case 'audience': req.audience = hit.id; break;
        case 'size': req.size = hit.id; break;
      }
    }
    const attrs = req.audience ?? req.colour ?? req.material ?? req.size ?? req.pack;
    req.intent = req.line ? 'alias'
      : req.top && !req.type && !req.brand ? 'category'
      : req.brand && req.type ? (english ? 'english_brand' : 'brand_type')
      : req.brand ? 'brand'
      : req.type ? (attrs !== undefined ? 'type_attr' : 'type')
      : 'unknown';
    return req;
  }
}
