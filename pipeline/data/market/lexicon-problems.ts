// The validator of `csrm-lexicon/2` files: it reads untrusted JSON, never throws, and reports every
// problem at once with its JSON path and what was expected there, e.g.
//   types[17].attrs[2]: unknown attribute "color" (known: colour, material, size, pack, audience)
// Checks run in one pass; a check that needs a broken part (an unknown language, a list that is not a
// list) is skipped, so one mistake is reported once, where it is.
import { ATTR_KINDS, SCHEMA, VALUE_KINDS } from './lexicon.ts';
import { QUERY_INTENTS } from './queries.ts';

export interface LexiconProblem { path: string; message: string }

export function formatProblems(ps: readonly LexiconProblem[]): string[] {
  return ps.map((p) => `${p.path || '(root)'}: ${p.message}`);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function what(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v} (${JSON.stringify(v).slice(0, 40)})`;
}

function knownList(ids: Iterable<string>): string {
  const xs = [...ids];
  return `known: ${xs.slice(0, 8).join(', ')}${xs.length > 8 ? `, … (${xs.length} in all)` : ''}`;
}

const at = (path: string, key: string | number) =>
  typeof key === 'number' ? `${path}[${key}]` : /^[A-Za-z_][\w-]*$/.test(key) ? (path ? `${path}.${key}` : key) : `${path}[${JSON.stringify(key)}]`;

/** Placeholders product texts (titles, descriptions, attribute sentences) may use. */
export const PRODUCT_SLOTS = ['brand', 'line', 'type', 'top', 'audience', 'colour', 'material', 'size', 'pack', 'promo'] as const;
const ATTR_SLOTS = ['audience', 'colour', 'material', 'size', 'pack'];
/** What each query intent must say and may say; the judge reads a query's meaning from its placeholders. */
const QUERY_SLOTS: Record<string, { needs: string[]; may: string[]; needsAttr?: boolean }> = {
  type: { needs: ['type'], may: [] },
  type_attr: { needs: ['type'], may: ATTR_SLOTS, needsAttr: true },
  brand: { needs: ['brand'], may: [] },
  brand_type: { needs: ['brand', 'type'], may: ATTR_SLOTS },
  english_brand: { needs: ['brand_en', 'type'], may: ATTR_SLOTS },
  category: { needs: ['top'], may: [] },
  alias: { needs: ['alias'], may: [] },
};

export function placeholders(template: string): string[] {
  return [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
}

export function lexiconProblems(doc: unknown): LexiconProblem[] {
  const out: LexiconProblem[] = [];
  const bad = (path: string, message: string) => { out.push({ path, message }); };
  if (!isObj(doc)) { bad('', `expected a JSON object, got ${what(doc)}`); return out; }
  if (doc.schema !== SCHEMA) {
    bad('schema', `expected "${SCHEMA}" (or "csrm-lexicon/1", migrated on load), got ${what(doc.schema)}`);
    return out;
  }

  // Typed accessors: each reports a wrong type at its path and returns a safe value.
  const str = (path: string, v: unknown, opts: { optional?: boolean } = {}): string | undefined => {
    if (v === undefined && opts.optional) return undefined;
    if (v === undefined) { bad(path, 'missing (expected a string)'); return undefined; }
    if (typeof v !== 'string') { bad(path, `expected a string, got ${what(v)}`); return undefined; }
    if (!v.trim()) { bad(path, 'expected a non-empty string'); return undefined; }
    return v;
  };
  const list = (path: string, v: unknown, opts: { optional?: boolean; nonEmpty?: boolean } = {}): unknown[] | undefined => {
    if (v === undefined && opts.optional) return undefined;
    if (v === undefined) { bad(path, 'missing (expected a list)'); return undefined; }
    if (!Array.isArray(v)) { bad(path, `expected a list, got ${what(v)}`); return undefined; }
    if (opts.nonEmpty && v.length === 0) bad(path, 'expected a non-empty list');
    return v;
  };
  const obj = (path: string, v: unknown): Obj | undefined => {
    if (v === undefined) { bad(path, 'missing (expected an object)'); return undefined; }
    if (!isObj(v)) { bad(path, `expected an object, got ${what(v)}`); return undefined; }
    return v;
  };
  // With the pivot broken, a key that looks like a language code may be its forms: not reported twice.
  let pivotBroken = false;
  const keysOnly = (path: string, o: Obj, allowed: readonly string[], hint: Record<string, string> = {}) => {
    for (const k of Object.keys(o))
      if (!allowed.includes(k) && !(pivotBroken && /^[a-z]{2,3}(-[A-Za-z]+)?$/.test(k))) bad(at(path, k), hint[k] ?? `unknown key (${knownList(allowed)})`);
  };

  // Header.
  const TOP_KEYS = ['schema', 'name', 'licence', 'source', 'target', 'pivot', 'top', 'types', 'attributes', 'brands', 'lines', 'aliases', 'promo', 'templates'];
  keysOnly('', doc, TOP_KEYS, {
    negotiable: `schema 2 has no global list: each type says its own "negotiable" and "non_negotiable" attributes`,
  });
  str('name', doc.name);
  str('licence', doc.licence, { optional: true });
  const side = (key: 'source' | 'target') => {
    const o = obj(key, doc[key]);
    if (!o) return undefined;
    keysOnly(key, o, ['market', 'language']);
    const market = str(at(key, 'market'), o.market), language = str(at(key, 'language'), o.language);
    return market && language ? { market, language } : undefined;
  };
  const S = side('source'), T = side('target');
  const pivot = str('pivot', doc.pivot);
  pivotBroken = pivot === undefined;
  if (S && T && S.market === T.market) bad('target.market', `must differ from the source market "${S.market}"`);
  if (S && T && S.language === T.language) bad('target.language', `must differ from the source language "${S.language}"`);
  // Without both languages nothing else can be read.
  if (!S || !T || S.language === T.language) return out;
  const langs = [S.language, T.language];
  const langKeys = [...new Set([...langs, ...(pivot ? [pivot] : [])])];

  /** Surface forms of one language: a list of non-empty strings. */
  const formList = (path: string, v: unknown, need: 'some' | 'any'): string[] => {
    const xs = list(path, v);
    if (!xs) return [];
    const good: string[] = [];
    xs.forEach((f, i) => {
      if (typeof f !== 'string') bad(at(path, i), `expected a surface form (a string), got ${what(f)}`);
      else if (!f.trim()) bad(at(path, i), 'empty surface form');
      else if (f !== f.trim()) bad(at(path, i), `surface form "${f}" has leading or trailing spaces`);
      else good.push(f);
    });
    if (need === 'some' && xs.length === 0) bad(path, 'no surface form (expected at least one)');
    return good;
  };
  /** Forms of a concept in every market language (and the pivot when given). */
  const conceptForms = (path: string, o: Obj, need: 'some' | 'any' = 'some') => {
    for (const l of langs) {
      if (o[l] === undefined) { if (need === 'some') bad(at(path, l), 'missing (expected a list of surface forms)'); }
      else formList(at(path, l), o[l], need);
    }
    if (pivot && !langs.includes(pivot) && o[pivot] !== undefined) formList(at(path, pivot), o[pivot], 'any');
  };
  /**
   * A list of {id, …} records: id → index of the good ones, duplicates reported; undefined when the
   * list itself is broken, so that references to it are not checked (one mistake, one report).
   */
  type Ids = Map<string, number> | undefined;
  const records = (path: string, v: unknown, what_: string, each: (p: string, o: Obj, i: number) => void): Ids => {
    const ids = new Map<string, number>();
    const xs = list(path, v);
    if (!xs) return undefined;
    xs.forEach((x, i) => {
      const p = at(path, i);
      const o = obj(p, x);
      if (!o) return;
      const id = str(at(p, 'id'), o.id);
      if (id !== undefined) {
        if (ids.has(id)) bad(at(p, 'id'), `duplicate ${what_} id "${id}" (first at ${at(path, ids.get(id)!)})`);
        else ids.set(id, i);
      }
      each(p, o, i);
    });
    return ids;
  };
  const ref = (path: string, v: unknown, known: Ids, noun: string): string | undefined => {
    const id = str(path, v);
    if (id === undefined || known === undefined) return undefined;
    if (!known.has(id)) { bad(path, `unknown ${noun} "${id}" (${knownList(known.keys())})`); return undefined; }
    return id;
  };
  const refList = (path: string, v: unknown, known: Ids, noun: string, opts: { nonEmpty?: boolean; optional?: boolean } = {}) => {
    const xs = list(path, v, opts) ?? [];
    const seen = new Set<string>();
    const good: string[] = [];
    xs.forEach((x, i) => {
      const id = ref(at(path, i), x, known, noun);
      if (id === undefined) return;
      if (seen.has(id)) bad(at(path, i), `"${id}" is listed twice`);
      seen.add(id);
      good.push(id);
    });
    return good;
  };

  // Categories and attribute values.
  const CONCEPT_KEYS = ['id', ...langKeys];
  const tops = records('top', doc.top, 'top category', (p, o) => { keysOnly(p, o, CONCEPT_KEYS); conceptForms(p, o); });
  if (tops?.size === 0) bad('top', 'expected at least one top category');
  const values: Record<string, Ids> = {};
  const attributes = obj('attributes', doc.attributes);
  if (attributes) {
    keysOnly('attributes', attributes, ATTR_KINDS);
    for (const kind of ATTR_KINDS) {
      const p = at('attributes', kind);
      if (attributes[kind] === undefined) { bad(p, `missing (expected a list of ${kind === 'pack' ? 'counters' : `${kind} values`}, possibly empty)`); continue; }
      values[kind] = records(p, attributes[kind], kind === 'pack' ? 'counter' : kind, (q, o) => {
        keysOnly(q, o, CONCEPT_KEYS);
        // The audience "all" (any human) is never said; every other value is.
        conceptForms(q, o, kind === 'audience' && o.id === 'all' ? 'any' : 'some');
        if (kind === 'pack') for (const l of langKeys) if (Array.isArray(o[l])) (o[l] as unknown[]).forEach((f, i) => {
          if (typeof f !== 'string') return;
          const slots = placeholders(f);
          if (slots.length !== 1 || slots[0] !== 'n') bad(at(at(q, l), i), `a counter form needs {n} once and no other placeholder, got "${f}"`);
        });
      });
    }
  }
  const hasValues = (kind: string) => values[kind] !== undefined;
  const valueIds = (kind: string) => values[kind] ?? new Map<string, number>();

  // Product types.
  const TYPE_KEYS = ['id', 'top', 'function', 'attrs', 'negotiable', 'non_negotiable', 'audiences', 'colours', 'materials', 'sizes', 'packs', 'counter', ...langKeys];
  const LIST_OF: Record<string, 'colours' | 'materials' | 'sizes' | 'packs'> = { colour: 'colours', material: 'materials', size: 'sizes', pack: 'packs' };
  const typeInfo = new Map<string, { attrs: Set<string>; audiences: Set<string>; colours?: Set<string>; materials?: Set<string>; sizes?: Set<string>; packs?: Set<number> }>();
  const types = records('types', doc.types, 'type', (p, o) => {
    keysOnly(p, o, TYPE_KEYS);
    conceptForms(p, o);
    ref(at(p, 'top'), o.top, tops, 'top category');
    str(at(p, 'function'), o.function);
    const attrs = new Set<string>();
    // With a misspelt attribute the type's attributes are unknown: checks that depend on them wait.
    let attrsKnown = true;
    const attrList = list(at(p, 'attrs'), o.attrs);
    if (!attrList) attrsKnown = false;
    (attrList ?? []).forEach((a, i) => {
      const ap = at(at(p, 'attrs'), i);
      if (typeof a !== 'string') { bad(ap, `expected an attribute name, got ${what(a)}`); attrsKnown = false; }
      else if (!(ATTR_KINDS as readonly string[]).includes(a)) { bad(ap, `unknown attribute "${a}" (${knownList(ATTR_KINDS)})`); attrsKnown = false; }
      else if (attrs.has(a)) bad(ap, `"${a}" is listed twice`);
      else attrs.add(a);
    });
    // Negotiability: every attribute with values is in exactly one of the two lists.
    const said = new Map<string, string>();
    for (const key of ['negotiable', 'non_negotiable'] as const) {
      (list(at(p, key), o[key]) ?? []).forEach((a, i) => {
        const ap = at(at(p, key), i);
        if (typeof a !== 'string') bad(ap, `expected an attribute name, got ${what(a)}`);
        else if (a === 'audience') bad(ap, 'audience follows the audience rule; it is neither negotiable nor non_negotiable');
        else if (!(VALUE_KINDS as readonly string[]).includes(a)) bad(ap, `unknown attribute "${a}" (${knownList(VALUE_KINDS)})`);
        else if (!attrs.has(a)) { if (attrsKnown) bad(ap, `"${a}" is not one of this type's attrs`); }
        else if (said.has(a)) bad(ap, `"${a}" is already in ${said.get(a)}`);
        else said.set(a, key);
      });
    }
    if (attrsKnown && Array.isArray(o.negotiable) && Array.isArray(o.non_negotiable))
      for (const a of attrs) if (a !== 'audience' && !said.has(a)) bad(p, `attribute "${a}" is neither negotiable nor non_negotiable (say which in one of the two lists)`);
    const audiences = new Set(refList(at(p, 'audiences'), o.audiences, values.audience, 'audience', { nonEmpty: true }));
    const info: NonNullable<ReturnType<typeof typeInfo.get>> = { attrs, audiences };
    for (const kind of ['colour', 'material', 'size'] as const) {
      const key = LIST_OF[kind];
      if (o[key] === undefined) {
        if (attrs.has(kind) && kind === 'size') bad(at(p, key), 'missing: a type with the size attribute lists its sizes');
        continue;
      }
      if (!attrs.has(kind)) { if (attrsKnown) bad(at(p, key), `given, but "${kind}" is not one of this type's attrs`); continue; }
      if (!hasValues(kind)) continue;
      const xs = list(at(p, key), o[key], { nonEmpty: true }) ?? [];
      const good = new Set<string>();
      xs.forEach((x, i) => {
        if (typeof x !== 'string') bad(at(at(p, key), i), `expected a ${kind} id (a string naming attributes.${kind}), got ${what(x)}`);
        else if (!valueIds(kind).has(x)) bad(at(at(p, key), i), `unknown ${kind} "${x}" (${knownList(valueIds(kind).keys())})`);
        else if (good.has(x)) bad(at(at(p, key), i), `"${x}" is listed twice`);
        else good.add(x);
      });
      info[`${kind}s` as 'colours' | 'materials' | 'sizes'] = good;
    }
    if (attrs.has('colour') && o.colours === undefined) info.colours = new Set(values.colour?.keys());
    if (attrs.has('material') && o.materials === undefined) info.materials = new Set(values.material?.keys());
    if (o.packs !== undefined || attrs.has('pack')) {
      if (!attrs.has('pack')) { if (attrsKnown) bad(at(p, 'packs'), 'given, but "pack" is not one of this type\'s attrs'); }
      else {
        const xs = list(at(p, 'packs'), o.packs, { nonEmpty: true }) ?? [];
        info.packs = new Set();
        xs.forEach((n, i) => {
          if (!Number.isInteger(n) || (n as number) < 1) bad(at(at(p, 'packs'), i), `expected a pack count (a positive integer), got ${what(n)}`);
          else if (info.packs!.has(n as number)) bad(at(at(p, 'packs'), i), `${n} is listed twice`);
          else info.packs!.add(n as number);
        });
      }
    }
    if (o.counter !== undefined) {
      if (!attrs.has('pack')) { if (attrsKnown) bad(at(p, 'counter'), 'given, but "pack" is not one of this type\'s attrs'); }
      else if (hasValues('pack')) ref(at(p, 'counter'), o.counter, values.pack, 'counter');
    } else if (attrs.has('pack') && values.pack?.size === 0) bad(at(p, 'attrs'), 'a type with packs needs a counter, and attributes.pack declares none');
    if (typeof o.id === 'string') typeInfo.set(o.id, info);
  });

  // Brands and lines.
  const brandTypes = new Map<string, Set<string>>();
  const brands = records('brands', doc.brands, 'brand', (p, o) => {
    keysOnly(p, o, ['id', 'name', 'types', ...langKeys]);
    str(at(p, 'name'), o.name);
    conceptForms(p, o);
    const ts = refList(at(p, 'types'), o.types, types, 'type', { nonEmpty: true });
    if (typeof o.id === 'string') brandTypes.set(o.id, new Set(ts));
  });
  if (types && brands) for (const [t, i] of types) if (![...brandTypes.values()].some((ts) => ts.has(t))) bad(at('types', i), `no brand sells type "${t}" (add it to some brand's types)`);
  const sells = (path: string, brand: string | undefined, type: string | undefined) => {
    if (brand === undefined || type === undefined || !brandTypes.has(brand) || !types?.has(type)) return;
    if (!brandTypes.get(brand)!.has(type)) bad(path, `brand "${brand}" does not sell "${type}" (its types: ${[...brandTypes.get(brand)!].join(', ')})`);
  };
  const lineType = new Map<string, string>();
  const lines = records('lines', doc.lines, 'line', (p, o) => {
    keysOnly(p, o, ['id', 'brand', 'type', ...langKeys], { aliases: 'schema 2 keeps nicknames in the top-level "aliases" list ({id, means: {line}, <lang>: [...]})' });
    conceptForms(p, o);
    const b = ref(at(p, 'brand'), o.brand, brands, 'brand');
    const t = ref(at(p, 'type'), o.type, types, 'type');
    sells(at(p, 'type'), b, t);
    if (typeof o.id === 'string' && t) lineType.set(o.id, t);
  });

  // Aliases: what a nickname means, checked against the type it names.
  records('aliases', doc.aliases, 'alias', (p, o) => {
    keysOnly(p, o, ['id', 'means', ...langKeys]);
    conceptForms(p, o, 'any');
    if (!langs.some((l) => Array.isArray(o[l]) && (o[l] as unknown[]).length > 0)) bad(p, `no surface form in ${langs.join(' or ')}`);
    const mp = at(p, 'means');
    const m = obj(mp, o.means);
    if (!m) return;
    keysOnly(mp, m, ['line', 'brand', 'type', ...ATTR_SLOTS]);
    if (m.line !== undefined && (m.brand !== undefined || m.type !== undefined)) bad(mp, 'a line already says its brand and type: give "line" alone, or "brand" and/or "type"');
    if (m.line === undefined && m.brand === undefined && m.type === undefined) { bad(mp, 'expected "line", "brand" or "type" (with attributes fixed if any)'); return; }
    const line = m.line !== undefined ? ref(at(mp, 'line'), m.line, lines, 'line') : undefined;
    const brand = m.brand !== undefined ? ref(at(mp, 'brand'), m.brand, brands, 'brand') : undefined;
    const type = m.type !== undefined ? ref(at(mp, 'type'), m.type, types, 'type') : line !== undefined ? lineType.get(line) : undefined;
    if (m.line === undefined) sells(at(mp, 'type'), brand, type);
    const fixed = ATTR_SLOTS.filter((k) => m[k] !== undefined);
    if (fixed.length && m.line === undefined && m.type === undefined) { bad(mp, `attributes (${fixed.join(', ')}) need a type or a line to belong to`); return; }
    const info = type !== undefined ? typeInfo.get(type) : undefined;
    if (!info) return;
    for (const k of fixed) {
      const kp = at(mp, k), v = m[k];
      if (k === 'audience') {
        const a = str(kp, v);
        if (a !== undefined && !info.audiences.has(a)) bad(kp, `type "${type}" is not made for audience "${a}" (its audiences: ${[...info.audiences].join(', ')})`);
      } else if (!info.attrs.has(k)) bad(kp, `type "${type}" has no ${k}`);
      else if (k === 'pack') {
        if (!info.packs?.has(v as number)) bad(kp, `type "${type}" has no pack of ${JSON.stringify(v)} (its packs: ${[...info.packs ?? []].join(', ')})`);
      } else {
        const allowed = info[`${k}s` as 'colours' | 'materials' | 'sizes'];
        if (typeof v !== 'string') bad(kp, `expected a ${k} id, got ${what(v)}`);
        else if (allowed && !allowed.has(v)) bad(kp, `type "${type}" has no ${k} "${v}" (${knownList(allowed)})`);
      }
    }
  });
  // A query is read word by word: a word that names two concepts (a size "S" and a colour "S", a
  // nickname that is also a brand) cannot be read back. A brand's English name may repeat its own form.
  const reported = new Set<string>(); // a brand's name is a word of both languages: one report
  for (const l of langs) {
    const owner = new Map<string, { concept: string; path: string }>();
    const claim = (concept: string, path: string, f: unknown) => {
      if (typeof f !== 'string' || !f.trim()) return;
      const key = f.toLowerCase(), prev = owner.get(key);
      if (!prev) owner.set(key, { concept, path });
      else if (prev.concept !== concept && !reported.has(path) && reported.add(path))
        bad(path, `"${f}" is already a surface form at ${prev.path}: ${concept.startsWith('alias:') ? 'a nickname must be a word of its own' : 'one word cannot name two concepts'}`);
    };
    const each = (listPath: string, kind: string, v: unknown) => {
      if (!Array.isArray(v)) return;
      v.forEach((o, i) => {
        if (!isObj(o)) return;
        const p = at(listPath, i), concept = `${kind}:${String(o.id)}`;
        if (Array.isArray(o[l])) (o[l] as unknown[]).forEach((f, j) => claim(concept, at(at(p, l), j), f));
        if (kind === 'brand') claim(concept, at(p, 'name'), o.name);
      });
    };
    each('top', 'top', doc.top); each('types', 'type', doc.types); each('brands', 'brand', doc.brands);
    if (attributes) for (const k of ['colour', 'material', 'size', 'audience']) each(at('attributes', k), k, attributes[k]);
    each('aliases', 'alias', doc.aliases);
  }

  // Promotional words and templates.
  const promo = obj('promo', doc.promo);
  if (promo) {
    keysOnly('promo', promo, langKeys);
    for (const l of langs) formList(at('promo', l), promo[l], 'any');
  }
  const templates = obj('templates', doc.templates);
  if (!templates) return out;
  keysOnly('templates', templates, langs);
  const slotsOf = (path: string, t: unknown, allowed: readonly string[], contextName: string): string[] | undefined => {
    if (typeof t !== 'string') { bad(path, `expected a template (a string), got ${what(t)}`); return undefined; }
    if (!t.trim()) { bad(path, 'empty template'); return undefined; }
    const slots = placeholders(t);
    for (const s of slots) if (!allowed.includes(s)) bad(path, `unknown placeholder {${s}} in ${contextName} (${knownList(allowed)})`);
    if (/[{}]/.test(t.replace(/\{\w+\}/g, ''))) bad(path, `unbalanced brace in "${t}" (placeholders are {name})`);
    return slots;
  };
  const templateList = (path: string, v: unknown, allowed: readonly string[], contextName: string, check?: (p: string, slots: string[]) => void) => {
    const xs = list(path, v, { nonEmpty: true });
    return (xs ?? []).map((t, i) => {
      const slots = slotsOf(at(path, i), t, allowed, contextName);
      if (slots && check) check(at(path, i), slots);
      return slots;
    });
  };
  const querySlots: Record<string, Record<string, (string[] | undefined)[]>> = {};
  for (const l of langs) {
    const tp = at('templates', l);
    if (templates[l] === undefined) { bad(tp, 'missing (expected {title, description, attribute, alias, query})'); continue; }
    const t = obj(tp, templates[l]);
    if (!t) continue;
    keysOnly(tp, t, ['title', 'description', 'attribute', 'alias', 'query']);
    templateList(at(tp, 'title'), t.title, PRODUCT_SLOTS, 'a title');
    templateList(at(tp, 'description'), t.description, PRODUCT_SLOTS, 'a description');
    const ap = at(tp, 'attribute');
    const attrT = t.attribute === undefined ? (bad(ap, `missing (expected an object of sentences by attribute: ${ATTR_KINDS.join(', ')})`), undefined) : obj(ap, t.attribute);
    if (attrT) {
      keysOnly(ap, attrT, ATTR_KINDS);
      for (const k of ATTR_KINDS) if (attrT[k] !== undefined) {
        const slots = slotsOf(at(ap, k), attrT[k], PRODUCT_SLOTS, 'an attribute sentence');
        if (slots && !slots.includes(k)) bad(at(ap, k), `the ${k} sentence must contain {${k}}`);
      }
    }
    const aliasCount = Array.isArray(doc.aliases) ? doc.aliases.length : 0;
    if (t.alias !== undefined || aliasCount > 0)
      templateList(at(tp, 'alias'), t.alias, ['alias'], 'an alias sentence', (p, slots) => { if (!slots.includes('alias')) bad(p, 'an alias sentence must contain {alias}'); });
    const qp = at(tp, 'query');
    const q = obj(qp, t.query);
    if (!q) continue;
    keysOnly(qp, q, QUERY_INTENTS, {});
    if (Object.keys(q).length === 0) bad(qp, `no query templates (intents: ${QUERY_INTENTS.join(', ')})`);
    querySlots[l] = {};
    for (const intent of QUERY_INTENTS) {
      if (q[intent] === undefined) continue;
      const rule = QUERY_SLOTS[intent];
      querySlots[l][intent] = templateList(at(qp, intent), q[intent], [...rule.needs, ...rule.may], `a ${intent} query`, (p, slots) => {
        const missing = rule.needs.filter((s) => !slots.includes(s));
        if (missing.length) bad(p, `a ${intent} query needs ${rule.needs.map((s) => `{${s}}`).join(' and ')} (missing ${missing.map((s) => `{${s}}`).join(', ')})`);
        if (rule.needsAttr && !slots.some((s) => ATTR_SLOTS.includes(s))) bad(p, `a ${intent} query needs one of ${ATTR_SLOTS.map((s) => `{${s}}`).join(' ')}`);
        const twice = slots.filter((s, i) => slots.indexOf(s) !== i);
        if (twice.length) bad(p, `{${twice[0]}} appears twice`);
      });
    }
  }
  // Query templates are chosen by index for both languages at once: they must say the same things.
  const [qa, qb] = langs.map((l) => querySlots[l]);
  if (qa && qb) for (const intent of QUERY_INTENTS) {
    const ta = qa[intent] ?? [], tb = qb[intent] ?? [];
    const p = at(at(at('templates', langs[1]), 'query'), intent);
    if (ta.length !== tb.length) { bad(p, `${tb.length} templates, but ${langs[0]} has ${ta.length} (they are chosen by index in both languages)`); continue; }
    ta.forEach((sa, i) => {
      const sb = tb[i];
      if (sa && sb && [...sa].sort().join() !== [...sb].sort().join())
        bad(at(p, i), `placeholders {${[...sb].sort().join('} {')}} differ from ${langs[0]}'s {${[...sa].sort().join('} {')}}`);
    });
  }
  return out;
}
