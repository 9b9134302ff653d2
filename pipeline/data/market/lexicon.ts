// The lexicon is data, not code: concepts with their surface forms in each language, keyed by the
// language codes the file declares. The generator reads only this structure, so another file with
// other concepts (or other languages) builds another market. Schema `csrm-lexicon/2`, documented in
// DATA_CARD.md; `csrm-lexicon/1` files are migrated on load (lexicon-migrate.ts).
import { readFileNamedSync } from '../../../engine/read-file.ts';
import { fileURLToPath } from 'node:url';
import { formatProblems, lexiconProblems } from './lexicon-problems.ts';
import { migrateLexiconV1, SCHEMA_V1 } from './lexicon-migrate.ts';

export const SCHEMA = 'csrm-lexicon/2';

/** Surface forms of one concept, keyed by language code ("ko", "zh-Hant", "en", …). */
export type Forms = Record<string, string[]>;

export interface Concept { id: string; [lang: string]: unknown }

export type AttrKind = 'colour' | 'material' | 'size' | 'pack' | 'audience';
export const ATTR_KINDS: readonly AttrKind[] = ['colour', 'material', 'size', 'pack', 'audience'];
/** Attributes with values a query can require; each type says whether a mismatch is negotiable. */
export type ValueKind = 'colour' | 'material' | 'size' | 'pack';
export const VALUE_KINDS: readonly ValueKind[] = ['colour', 'material', 'size', 'pack'];

export interface TypeDef {
  id: string;
  /** Top category id. */
  top: string;
  /** Function group: products of one function can substitute for each other. */
  function: string;
  /** Attributes its products have and its titles and queries may say. */
  attrs: AttrKind[];
  /** A mismatch of these makes another product of the function a substitute … */
  negotiable: ValueKind[];
  /** … and of these irrelevant (a queen sheet for a single bed). */
  non_negotiable: ValueKind[];
  /** Audiences products of this type are made for; 'all' = any human, 'pet' = animals. */
  audiences: string[];
  /** Value ids; colours and materials default to every value the lexicon declares. */
  colours?: string[];
  materials?: string[];
  sizes?: string[];
  packs?: number[];
  /** Counter id of `attributes.pack` that says its pack counts; the first counter by default. */
  counter?: string;
  [lang: string]: unknown;
}

export interface BrandDef {
  id: string;
  /** The brand's international (Latin-script) name, as in "NIKE 耐吉" and English-brand queries. */
  name: string;
  types: string[];
  [lang: string]: unknown;
}

export interface LineDef { id: string; brand: string; type: string; [lang: string]: unknown }

/** What a nickname means: a line, a brand, a type, a brand's type, each optionally with fixed attributes. */
export interface AliasMeaning {
  line?: string;
  brand?: string;
  type?: string;
  audience?: string;
  colour?: string;
  material?: string;
  size?: string;
  pack?: number;
}

/** A nickname (what alias queries say; never in a title), with its forms per language. */
export interface AliasDef { id: string; means: AliasMeaning; [lang: string]: unknown }

export interface LanguageTemplates {
  title: string[];
  description: string[];
  attribute: Partial<Record<AttrKind, string>>;
  alias: string[];
  query: Record<string, string[]>;
}

export interface Lexicon {
  schema: typeof SCHEMA;
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
    size: Concept[];
    audience: Concept[];
    /** Counters: forms with `{n}` ("{n}개입", "{n}入"); a type picks one with `counter`. */
    pack: Concept[];
  };
  brands: BrandDef[];
  lines: LineDef[];
  aliases: AliasDef[];
  promo: Forms;
  templates: Record<string, LanguageTemplates>;
}

export const LEXICON_DIR = fileURLToPath(new URL('../lexicon/', import.meta.url));
export const DEFAULT_LEXICON = fileURLToPath(new URL('../lexicon/kr-tw.json', import.meta.url));

export function forms(c: unknown, lang: string): string[] {
  const v = (c as Record<string, unknown>)[lang];
  return Array.isArray(v) ? (v as string[]) : [];
}

/** Every problem of a parsed file, or a lexicon with its defaults filled in (a fresh copy). */
export function parseLexicon(raw: unknown, origin = 'lexicon'): Lexicon {
  const v1 = (raw as { schema?: unknown } | null)?.schema === SCHEMA_V1;
  const doc = v1 ? migrateLexiconV1(raw) : structuredClone(raw);
  const problems = lexiconProblems(doc);
  if (problems.length) {
    const how = v1 ? ` (a ${SCHEMA_V1} file, migrated to ${SCHEMA}; paths are those of the migrated file)` : '';
    throw new Error(`invalid lexicon ${origin}${how}: ${problems.length} problem${problems.length > 1 ? 's' : ''}\n  ${formatProblems(problems).join('\n  ')}`);
  }
  return withDefaults(doc as Lexicon);
}

export function loadLexicon(file: string = DEFAULT_LEXICON): Lexicon {
  let raw: unknown;
  const text = readFileNamedSync(file, 'lexicon').toString('utf8'); // a folder or a missing file, named
  try { raw = JSON.parse(text); }
  catch (e) { throw new Error(`invalid lexicon ${file}: not JSON (${(e as Error).message})`); }
  return parseLexicon(raw, file);
}

function withDefaults(lex: Lexicon): Lexicon {
  for (const t of lex.types) {
    if (t.attrs.includes('colour')) t.colours ??= lex.attributes.colour.map((c) => c.id);
    if (t.attrs.includes('material')) t.materials ??= lex.attributes.material.map((c) => c.id);
    if (t.attrs.includes('pack')) t.counter ??= lex.attributes.pack[0].id;
  }
  return lex;
}
