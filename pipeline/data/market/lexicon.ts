// The lexicon is data, not code: concepts with their surface forms in each language, keyed by the
// language codes the file declares. The generator reads only this structure, so another file with
// other concepts (or other languages) builds another market. Schema documented in DATA_CARD.md.
import { readFileNamedSync } from '../../../engine/read_file.ts';
import { fileURLToPath } from 'node:url';

/** Surface forms of one concept, keyed by language code ("ko", "zh-Hant", "en", …). */
export type Forms = Record<string, string[]>;

export interface Concept { id: string; [lang: string]: string[] | string }

export type AttrKind = 'colour' | 'material' | 'size' | 'pack' | 'audience';
export const ATTR_KINDS: readonly AttrKind[] = ['colour', 'material', 'size', 'pack', 'audience'];

export interface TypeDef {
  id: string;
  /** Top category id. */
  top: string;
  /** Function group: products of one function can substitute for each other. */
  function: string;
  attrs: AttrKind[];
  /** Audiences products of this type are made for; 'all' = any human, 'pet' = animals. */
  audiences: string[];
  sizes?: string[];
  packs?: number[];
  colours?: string[];
  materials?: string[];
  [lang: string]: unknown;
}

export interface BrandDef { id: string; en: string; types: string[]; [lang: string]: unknown }

export interface LineDef {
  id: string;
  brand: string;
  type: string;
  /** Nicknames per language: what alias queries say; never in a title. */
  aliases: Forms;
  [lang: string]: unknown;
}

export interface LanguageTemplates {
  title: string[];
  description: string[];
  attribute: Partial<Record<AttrKind, string>>;
  alias: string[];
  query: Record<string, string[]>;
}

export interface Lexicon {
  schema: 'csrm-lexicon/1';
  name: string;
  licence?: string;
  source: { market: string; language: string };
  target: { market: string; language: string };
  pivot: string;
  top: Concept[];
  types: TypeDef[];
  attributes: {
    colour: Concept[];
    material: Concept[];
    audience: Concept[];
    pack: Forms;
  };
  negotiable: AttrKind[];
  brands: BrandDef[];
  lines: LineDef[];
  promo: Forms;
  templates: Record<string, LanguageTemplates>;
}

export const DEFAULT_LEXICON = fileURLToPath(new URL('../lexicon/kr-tw.json', import.meta.url));

export function forms(c: unknown, lang: string): string[] {
  const v = (c as Record<string, unknown>)[lang];
  // A brand's `en` is its one English name: a single string counts as one form.
  return Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : [];
}

/** Checks the references and forms the generator relies on; returns every problem found. */
export function lexiconProblems(lex: Lexicon): string[] {
  const p: string[] = [];
  const langs = [lex.source.language, lex.target.language];
  if (lex.schema !== 'csrm-lexicon/1') p.push(`schema must be 'csrm-lexicon/1', got '${lex.schema}'`);
  const tops = new Set(lex.top.map((t) => t.id));
  const types = new Map(lex.types.map((t) => [t.id, t]));
  const named = (what: string, c: unknown, id: string) => {
    for (const l of langs) if (forms(c, l).length === 0) p.push(`${what} '${id}' has no ${l} form`);
  };
  for (const t of lex.top) named('top category', t, t.id);
  for (const t of lex.types) {
    named('type', t, t.id);
    if (!tops.has(t.top)) p.push(`type '${t.id}': unknown top category '${t.top}'`);
    if (t.audiences.length === 0) p.push(`type '${t.id}': no audiences`);
    if (t.attrs.includes('size') && !t.sizes?.length) p.push(`type '${t.id}': size attribute without sizes`);
    if (t.attrs.includes('pack') && !t.packs?.length) p.push(`type '${t.id}': pack attribute without packs`);
  }
  const audiences = new Set(lex.attributes.audience.map((a) => a.id));
  for (const t of lex.types) for (const a of t.audiences) if (!audiences.has(a)) p.push(`type '${t.id}': unknown audience '${a}'`);
  for (const kind of ['colour', 'material'] as const)
    for (const c of lex.attributes[kind]) named(kind, c, c.id);
  for (const b of lex.brands) {
    named('brand', b, b.id);
    for (const t of b.types) if (!types.has(t)) p.push(`brand '${b.id}': unknown type '${t}'`);
  }
  const brands = new Map(lex.brands.map((b) => [b.id, b]));
  for (const l of lex.lines) {
    named('line', l, l.id);
    const b = brands.get(l.brand);
    if (!b) p.push(`line '${l.id}': unknown brand '${l.brand}'`);
    else if (!b.types.includes(l.type)) p.push(`line '${l.id}': brand '${l.brand}' does not sell '${l.type}'`);
  }
  for (const l of langs) {
    const t = lex.templates[l];
    if (!t) { p.push(`no templates for language ${l}`); continue; }
    if (t.title.length === 0 || t.description.length === 0) p.push(`templates ${l}: empty title or description list`);
    if (!forms(lex.attributes.pack, l).length) p.push(`pack forms missing for ${l}`);
  }
  // Query templates are chosen by index for both languages at once: slot sets must agree.
  const [a, b] = langs.map((l) => lex.templates[l]?.query ?? {});
  const slots = (t: string) => [...t.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');
  for (const intent of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const ta = a[intent] ?? [], tb = b[intent] ?? [];
    if (ta.length !== tb.length) { p.push(`query templates '${intent}': ${ta.length} in ${langs[0]}, ${tb.length} in ${langs[1]}`); continue; }
    ta.forEach((t, i) => { if (slots(t) !== slots(tb[i])) p.push(`query template '${intent}' #${i}: placeholders differ between ${langs[0]} and ${langs[1]}`); });
  }
  return p;
}

export function loadLexicon(file: string = DEFAULT_LEXICON): Lexicon {
  let lex: Lexicon;
  try {
    lex = JSON.parse(readFileNamedSync(file, 'lexicon').toString('utf8')) as Lexicon;
  } catch (e) {
    throw new Error(e instanceof SyntaxError ? `lexicon ${file}: not valid JSON (${e.message})` : (e as Error).message);
  }
  if (lex === null || typeof lex !== 'object' || Array.isArray(lex)) throw new Error(`lexicon ${file}: expected a JSON object`);
  let problems: string[];
  try {
    problems = lexiconProblems(lex);
  } catch (e) {
    // a field of the wrong type (a list that is not one) trips the checks themselves
    throw new Error(`invalid lexicon ${file}: ${(e as Error).message}`);
  }
  if (problems.length) throw new Error(`invalid lexicon ${file}:\n  ${problems.join('\n  ')}`);
  return lex;
}
