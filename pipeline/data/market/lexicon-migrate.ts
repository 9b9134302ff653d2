// Migration csrm-lexicon/1 → csrm-lexicon/2. What changes, and why it keeps a schema-1 market's meaning:
//   - the global `negotiable` list becomes each type's `negotiable` (its attributes in that list) and
//     `non_negotiable` (its other attributes, audience excepted: audience has its own rule);
//   - size strings become size values (`attributes.size`, id = the string, the same form in every
//     language), so a schema-2 file can localise them;
//   - the pack counter forms become one counter, `attributes.pack[0]` (id "pack");
//   - a brand's `en` string becomes its `name` (and stays an `en` form where `en` is a market language);
//   - each line's `aliases` become one top-level alias that means the line;
//   - `colours` / `materials` / `sizes` / `packs` lists of attributes a type does not have are dropped
//     (schema 1 ignored them; schema 2 rejects them).
// Shapes the migration does not recognise are passed through unchanged, so the schema-2 validator
// reports them at the same path.
import type { AttrKind } from './lexicon.ts';

export const SCHEMA_V1 = 'csrm-lexicon/1';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const TYPE_LISTS: Record<string, AttrKind> = { colours: 'colour', materials: 'material', sizes: 'size', packs: 'pack' };

export function migrateLexiconV1(raw: unknown): unknown {
  if (!isObj(raw)) return raw;
  const v1 = structuredClone(raw);
  const langs = [isObj(v1.source) ? v1.source.language : undefined, isObj(v1.target) ? v1.target.language : undefined]
    .filter((l): l is string => typeof l === 'string');
  const allLangs = [...langs, ...(typeof v1.pivot === 'string' && !langs.includes(v1.pivot) ? [v1.pivot] : [])];
  const negotiable = Array.isArray(v1.negotiable) ? (v1.negotiable as unknown[]) : null;

  const sizes: string[] = [];
  const types = Array.isArray(v1.types) ? v1.types.map((t) => {
    if (!isObj(t)) return t;
    const attrs = Array.isArray(t.attrs) ? (t.attrs as unknown[]) : [];
    const out: Obj = {};
    for (const [k, v] of Object.entries(t)) {
      const kind = TYPE_LISTS[k];
      if (kind && !attrs.includes(kind)) continue;
      out[k] = v;
      if (k === 'attrs' && negotiable && Array.isArray(v)) {
        const valued = (v as unknown[]).filter((a) => a !== 'audience');
        out.negotiable = valued.filter((a) => negotiable.includes(a));
        out.non_negotiable = valued.filter((a) => !negotiable.includes(a));
      }
      if (k === 'sizes' && Array.isArray(v)) for (const s of v) if (typeof s === 'string' && !sizes.includes(s)) sizes.push(s);
    }
    return out;
  }) : v1.types;

  const sizeValues = sizes.map((s) => ({ id: s, ...Object.fromEntries(allLangs.map((l) => [l, [s]])) }));
  let attributes = v1.attributes;
  if (isObj(attributes)) {
    const byKind: Obj = {};
    for (const [k, v] of Object.entries(attributes)) {
      byKind[k] = k === 'pack' && isObj(v) ? [{ id: 'pack', ...v }] : v;
      if (k === 'material') byKind.size = sizeValues;
    }
    byKind.size ??= sizeValues;
    attributes = byKind;
  }

  const brands = Array.isArray(v1.brands) ? v1.brands.map((b) => {
    if (!isObj(b)) return b;
    const out: Obj = {};
    for (const [k, v] of Object.entries(b)) {
      if (k === 'en') {
        out.name = v;
        if (langs.includes('en')) out.en = typeof v === 'string' ? [v] : v;
      } else out[k] = v;
    }
    return out;
  }) : v1.brands;

  const aliases: unknown[] = [];
  const lines = Array.isArray(v1.lines) ? v1.lines.map((l) => {
    if (!isObj(l)) return l;
    const { aliases: forms, ...rest } = l;
    if (forms !== undefined) {
      const some = isObj(forms) && Object.values(forms).some((f) => !Array.isArray(f) || f.length > 0);
      if (some || !isObj(forms)) aliases.push({ id: l.id, means: { line: l.id }, ...(isObj(forms) ? forms : { forms }) });
    }
    return rest;
  }) : v1.lines;

  const out: Obj = {};
  for (const [k, v] of Object.entries(v1)) {
    switch (k) {
      case 'schema': out.schema = 'csrm-lexicon/2'; break;
      case 'types': out.types = types; break;
      case 'attributes': out.attributes = attributes; break;
      case 'negotiable': if (!negotiable) out.negotiable = v; break;
      case 'brands': out.brands = brands; break;
      case 'lines': out.lines = lines; out.aliases = aliases; break;
      default: out[k] = v;
    }
  }
  return out;
}
