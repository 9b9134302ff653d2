// The lexicon validator, one broken lexicon per rule: each mutation of the shipped (valid) kr-tw file
// must be reported exactly as listed (path: what was expected), and nothing else.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateMarket } from '../../pipeline/data/market/generate.ts';
import { DEFAULT_LEXICON, loadLexicon, parseLexicon } from '../../pipeline/data/market/lexicon.ts';
import { formatProblems, lexiconProblems } from '../../pipeline/data/market/lexicon-problems.ts';

type Doc = any; // eslint-disable-line @typescript-eslint/no-explicit-any -- mutations reach into untyped JSON
const base = (): Doc => JSON.parse(readFileSync(DEFAULT_LEXICON, 'utf8'));
const MINI_V1 = join(import.meta.dirname, 'fixtures/mini-lexicon.json');
const problemsOf = (d: unknown) => formatProblems(lexiconProblems(d));

const cases: [rule: string, mutate: (d: Doc) => unknown, expected: (string | RegExp)[]][] = [
  // Shape of the file.
  ['not an object', () => [], ['(root): expected a JSON object, got a list']],
  ['another schema', (d) => { d.schema = 'shop-catalogue/3'; }, ['schema: expected "csrm-lexicon/2" (or "csrm-lexicon/1", migrated on load), got a string ("shop-catalogue/3")']],
  ['unknown top-level key', (d) => { d.alias = []; }, [/^alias: unknown key \(known: schema, name, licence, source, target, pivot, top, types, … \(14 in all\)\)$/]],
  ['schema-1 global negotiable list', (d) => { d.negotiable = ['colour']; }, ['negotiable: schema 2 has no global list: each type says its own "negotiable" and "non_negotiable" attributes']],
  ['wrong type of a scalar', (d) => { d.pivot = 5; }, ['pivot: expected a string, got a number (5)']],
  ['missing name', (d) => { delete d.name; }, ['name: missing (expected a string)']],
  ['same language twice', (d) => { d.target.language = 'ko'; }, ['target.language: must differ from the source language "ko"']],
  ['missing lines', (d) => { delete d.lines; }, ['lines: missing (expected a list)']],
  ['missing aliases', (d) => { delete d.aliases; }, ['aliases: missing (expected a list)']],
  // Surface forms.
  ['empty surface form', (d) => { d.types[0].ko[1] = ''; }, ['types[0].ko[1]: empty surface form']],
  ['blank surface form', (d) => { d.brands[2]['zh-Hant'][0] = '  '; }, ['brands[2].zh-Hant[0]: empty surface form']],
  ['padded surface form', (d) => { d.top[0].ko[0] = ' 패션의류'; }, ['top[0].ko[0]: surface form " 패션의류" has leading or trailing spaces']],
  ['no form in a market language', (d) => { d.top[1]['zh-Hant'] = []; }, ['top[1].zh-Hant: no surface form (expected at least one)']],
  ['forms missing for a language', (d) => { delete d.attributes.colour[0].ko; }, ['attributes.colour[0].ko: missing (expected a list of surface forms)']],
  ['a form that is not a string', (d) => { d.types[3].ko.push(7); }, ['types[3].ko[1]: expected a surface form (a string), got a number (7)']],
  ['en as a string', (d) => { d.top[0].en = 'apparel'; }, ['top[0].en: expected a list, got a string ("apparel")']],
  ['brand name as a list', (d) => { d.brands[0].name = ['Nike']; }, ['brands[0].name: expected a string, got a list']],
  // Ids.
  ['duplicate type id', (d) => { d.types.push(structuredClone(d.types[0])); }, ['types[55].id: duplicate type id "tshirt" (first at types[0])']],
  ['duplicate brand id', (d) => { d.brands[1].id = 'nike'; }, [
    'brands[1].id: duplicate brand id "nike" (first at brands[0])',
    // adidas sold these alone? No: nike sells them too, so only the line of adidas loses its brand.
    'lines[18].brand: unknown brand "adidas" (known: nike, newbalance, puma, converse, fila, skechers, crocs, drmartens, … (73 in all))',
  ]],
  ['duplicate alias id', (d) => { d.aliases[1].id = d.aliases[0].id; }, ['aliases[1].id: duplicate alias id "skii_fte" (first at aliases[0])']],
  // Types: attributes and negotiability.
  ['misspelt attribute', (d) => { d.types[0].attrs.push('color'); }, ['types[0].attrs[4]: unknown attribute "color" (known: colour, material, size, pack, audience)']],
  ['misspelt attribute in the middle', (d) => { d.types[17].attrs = ['colour', 'audience', 'color']; }, ['types[17].attrs[2]: unknown attribute "color" (known: colour, material, size, pack, audience)']],
  ['unknown type key', (d) => { d.types[0].colors = ['red']; }, [/^types\[0\]\.colors: unknown key \(known: id, top, function, attrs, negotiable, non_negotiable, audiences, colours, … \(15 in all\)\)$/]],
  ['unknown top category', (d) => { d.types[0].top = 'clothes'; }, [/^types\[0\]\.top: unknown top category "clothes" \(known: fashion, shoes, beauty, /]],
  ['missing non_negotiable', (d) => { delete d.types[0].non_negotiable; }, ['types[0].non_negotiable: missing (expected a list)']],
  ['attribute neither negotiable nor not', (d) => { d.types[0].negotiable = ['colour', 'material']; }, ['types[0]: attribute "size" is neither negotiable nor non_negotiable (say which in one of the two lists)']],
  ['attribute both negotiable and not', (d) => { d.types[0].non_negotiable = ['size']; }, ['types[0].non_negotiable[0]: "size" is already in negotiable']],
  ['negotiable attribute the type lacks', (d) => { d.types[2].negotiable.push('pack'); }, ['types[2].negotiable[2]: "pack" is not one of this type\'s attrs']],
  ['audience made negotiable', (d) => { d.types[0].negotiable.push('audience'); }, ['types[0].negotiable[3]: audience follows the audience rule; it is neither negotiable nor non_negotiable']],
  ['unknown audience', (d) => { d.types[0].audiences.push('alien'); }, [/^types\[0\]\.audiences\[4\]: unknown audience "alien" \(known: woman, man, kid, unisex, pet, all\)$/]],
  ['size attribute without sizes', (d) => { delete d.types[0].sizes; }, ['types[0].sizes: missing: a type with the size attribute lists its sizes']],
  ['size object', (d) => { d.types[0].sizes[0] = { label: 'S', cm: 90 }; }, ['types[0].sizes[0]: expected a size id (a string naming attributes.size), got an object']],
  ['unknown size', (d) => { d.types[0].sizes.push('XXL'); }, [/^types\[0\]\.sizes\[4\]: unknown size "XXL" \(known: S, M, L, XL, 230mm, /]],
  ['values of an attribute the type lacks', (d) => { d.types[6].materials = ['leather']; }, ['types[6].materials: given, but "material" is not one of this type\'s attrs']],
  ['pack count not an integer', (d) => { d.types[10].packs = [1, 2.5]; }, ['types[10].packs[1]: expected a pack count (a positive integer), got a number (2.5)']],
  ['unknown counter', (d) => { d.types[10].counter = 'crate'; }, ['types[10].counter: unknown counter "crate" (known: pack)']],
  ['type nobody sells', (d) => { d.brands.find((b: Doc) => b.id === 'decathlon').types = ['yoga_mat', 'running_shoes']; }, ['types[54]: no brand sells type "dumbbell" (add it to some brand\'s types)']],
  // Attribute values and counters.
  ['missing attribute kind', (d) => { delete d.attributes.size; }, ['attributes.size: missing (expected a list of size values, possibly empty)']],
  ['misspelt attribute kind', (d) => { d.attributes.color = []; }, ['attributes.color: unknown key (known: colour, material, size, pack, audience)']],
  ['counter form without {n}', (d) => { d.attributes.pack[0].ko[0] = '개입'; }, ['attributes.pack[0].ko[0]: a counter form needs {n} once and no other placeholder, got "개입"']],
  ['counter form with {unit}', (d) => { d.attributes.pack[0]['zh-Hant'][0] = '{n}{unit}'; }, ['attributes.pack[0].zh-Hant[0]: a counter form needs {n} once and no other placeholder, got "{n}{unit}"']],
  // Brands and lines.
  ['brand sells an unknown type', (d) => { d.brands[0].types.push('hovercraft'); }, [/^brands\[0\]\.types\[6\]: unknown type "hovercraft" \(known: tshirt, hoodie, /]],
  ['line with an unknown type', (d) => { d.lines[0].type = 'nope'; }, [/^lines\[0\]\.type: unknown type "nope" \(known: tshirt, hoodie, jeans, /]],
  ['line with an unknown brand', (d) => { d.lines[0].brand = 'nobody'; }, [/^lines\[0\]\.brand: unknown brand "nobody" \(known: nike, /]],
  ['line of a type its brand does not sell', (d) => { d.lines[0].type = 'shampoo'; }, ['lines[0].type: brand "skii" does not sell "shampoo" (its types: essence, cream, toner, mask)']],
  ['schema-1 aliases on a line', (d) => { d.lines[0].aliases = { ko: ['피테라'] }; }, ['lines[0].aliases: schema 2 keeps nicknames in the top-level "aliases" list ({id, means: {line}, <lang>: [...]})']],
  // Aliases.
  ['alias of an unknown line', (d) => { d.aliases[0].means = { line: 'nope' }; }, [/^aliases\[0\]\.means\.line: unknown line "nope" \(known: skii_fte, /]],
  ['alias with a line and a brand', (d) => { d.aliases[0].means = { line: 'skii_fte', brand: 'skii' }; }, ['aliases[0].means: a line already says its brand and type: give "line" alone, or "brand" and/or "type"']],
  ['alias that means nothing', (d) => { d.aliases[0].means = {}; }, ['aliases[0].means: expected "line", "brand" or "type" (with attributes fixed if any)']],
  ['alias fixing attributes without a type', (d) => { d.aliases[0].means = { brand: 'nike', colour: 'red' }; }, ['aliases[0].means: attributes (colour) need a type or a line to belong to']],
  ['alias fixing an audience the type lacks', (d) => { d.aliases[0].means = { type: 'shampoo', audience: 'pet' }; }, ['aliases[0].means.audience: type "shampoo" is not made for audience "pet" (its audiences: all, kid)']],
  ['alias fixing a size the type lacks', (d) => { d.aliases[0].means = { type: 'tshirt', size: '230mm' }; }, ['aliases[0].means.size: type "tshirt" has no size "230mm" (known: S, M, L, XL)']],
  ['alias fixing an attribute the type lacks', (d) => { d.aliases[0].means = { type: 'ramen', colour: 'red' }; }, ['aliases[0].means.colour: type "ramen" has no colour']],
  ['alias of a brand\'s type it does not sell', (d) => { d.aliases[0].means = { brand: 'skii', type: 'ramen' }; }, ['aliases[0].means.type: brand "skii" does not sell "ramen" (its types: essence, cream, toner, mask)']],
  ['unknown key in a meaning', (d) => { d.aliases[0].means = { type: 'tshirt', colours: 'red' }; }, [/^aliases\[0\]\.means\.colours: unknown key \(known: line, brand, type, audience, colour, material, size, pack\)$/]],
  ['alias without forms', (d) => { d.aliases[0].ko = []; d.aliases[0]['zh-Hant'] = []; }, ['aliases[0]: no surface form in ko or zh-Hant']],
  ['alias that is another word', (d) => { d.aliases[0].ko = ['나이키']; }, ['aliases[0].ko[0]: "나이키" is already a surface form at brands[0].ko[0]: a nickname must be a word of its own']],
  ['a word that names two concepts', (d) => { d.attributes.colour[1].ko[1] = '검정'; }, ['attributes.colour[1].ko[1]: "검정" is already a surface form at attributes.colour[0].ko[1]: one word cannot name two concepts']],
  ['a brand\'s English name that is another brand\'s', (d) => { d.brands[1].name = 'Nike'; }, ['brands[1].name: "Nike" is already a surface form at brands[0].name: one word cannot name two concepts']],
  // Templates.
  ['no promo', (d) => { delete d.promo; }, ['promo: missing (expected an object)']],
  ['missing templates of a language', (d) => { delete d.templates['zh-Hant']; }, ['templates.zh-Hant: missing (expected {title, description, attribute, alias, query})']],
  ['missing description templates', (d) => { delete d.templates.ko.description; }, ['templates.ko.description: missing (expected a list)']],
  ['empty title list', (d) => { d.templates.ko.title = []; }, ['templates.ko.title: expected a non-empty list']],
  ['no attribute templates', (d) => { delete d.templates.ko.attribute; }, ['templates.ko.attribute: missing (expected an object of sentences by attribute: colour, material, size, pack, audience)']],
  ['unknown placeholder {attrs}', (d) => { d.templates.ko.title[0] += ' {attrs}'; }, [/^templates\.ko\.title\[0\]: unknown placeholder \{attrs\} in a title \(known: brand, line, type, top, audience, colour, material, size, … \(10 in all\)\)$/]],
  ['unknown placeholder {unit}', (d) => { d.templates['zh-Hant'].attribute.size = '尺寸：{size}{unit}。'; }, [/^templates\.zh-Hant\.attribute\.size: unknown placeholder \{unit\} in an attribute sentence/]],
  ['unbalanced brace', (d) => { d.templates.ko.description[0] = '{brand의 {type} 제품입니다.'; }, ['templates.ko.description[0]: unbalanced brace in "{brand의 {type} 제품입니다." (placeholders are {name})']],
  ['attribute sentence without its value', (d) => { d.templates.ko.attribute.colour = '색상.'; }, ['templates.ko.attribute.colour: the colour sentence must contain {colour}']],
  ['misspelt attribute sentence', (d) => { d.templates.ko.attribute.color = '색상 {colour}.'; }, ['templates.ko.attribute.color: unknown key (known: colour, material, size, pack, audience)']],
  ['alias sentence without the alias', (d) => { d.templates.ko.alias[1] = '유명한 제품.'; }, ['templates.ko.alias[1]: an alias sentence must contain {alias}']],
  ['unknown intent', (d) => { d.templates.ko.query.brnd = ['{brand}']; }, [/^templates\.ko\.query\.brnd: unknown key \(known: type, type_attr, brand, brand_type, category, english_brand, alias\)$/]],
  ['placeholder that does not belong to the intent', (d) => { d.templates.ko.query.brand = ['{brand} {type}']; d.templates['zh-Hant'].query.brand = ['{brand}{type}']; }, [
    'templates.ko.query.brand[0]: unknown placeholder {type} in a brand query (known: brand)',
    'templates.zh-Hant.query.brand[0]: unknown placeholder {type} in a brand query (known: brand)',
  ]],
  ['intent without what it needs', (d) => { d.templates.ko.query.brand_type[0] = '{type}'; d.templates['zh-Hant'].query.brand_type[0] = '{type}'; }, [
    'templates.ko.query.brand_type[0]: a brand_type query needs {brand} and {type} (missing {brand})',
    'templates.zh-Hant.query.brand_type[0]: a brand_type query needs {brand} and {type} (missing {brand})',
  ]],
  ['type_attr query without an attribute', (d) => { d.templates.ko.query.type_attr[0] = '{type}'; d.templates['zh-Hant'].query.type_attr[0] = '{type}'; }, [
    'templates.ko.query.type_attr[0]: a type_attr query needs one of {audience} {colour} {material} {size} {pack}',
    'templates.zh-Hant.query.type_attr[0]: a type_attr query needs one of {audience} {colour} {material} {size} {pack}',
  ]],
  ['query templates that are not translations', (d) => { d.templates['zh-Hant'].query.type_attr[0] = '{colour}{type}'; }, ['templates.zh-Hant.query.type_attr[0]: placeholders {colour} {type} differ from ko\'s {audience} {type}']],
  ['query template counts differ', (d) => { d.templates['zh-Hant'].query.brand_type.pop(); }, ['templates.zh-Hant.query.brand_type: 2 templates, but ko has 3 (they are chosen by index in both languages)']],
];

describe('lexicon validator: one broken lexicon per rule', () => {
  it('accepts the shipped lexicons', () => {
    expect(problemsOf(base())).toEqual([]);
  });
  for (const [rule, mutate, expected] of cases) {
    it(rule, () => {
      const d = base();
      const replaced = mutate(d);
      const got = problemsOf(replaced === undefined ? d : replaced);
      expect(got, got.join('\n')).toHaveLength(expected.length);
      expected.forEach((e, i) => (typeof e === 'string' ? expect(got[i]).toBe(e) : expect(got[i]).toMatch(e)));
    });
  }

  it('reports every problem of a file at once', () => {
    const d = base();
    const mutations = cases.filter(([rule]) => ['misspelt attribute', 'size object', 'unknown placeholder {attrs}', 'line with an unknown type', 'no promo', 'empty surface form'].includes(rule));
    for (const [, mutate] of mutations) mutate(d);
    const got = problemsOf(d);
    expect(got.map((p) => p.split(':')[0]).sort()).toEqual(
      ['lines[0].type', 'promo', 'templates.ko.title[0]', 'types[0].attrs[4]', 'types[0].ko[1]', 'types[0].sizes[0]'].sort());
  });
});

describe('every entry point validates', () => {
  const broken = () => { const d = base(); d.types[0].attrs.push('color'); delete d.promo; return d; };
  const expectBoth = (f: () => unknown) => {
    expect(f).toThrow(/2 problems/);
    expect(f).toThrow(/types\[0\]\.attrs\[4\]: unknown attribute "color"/);
    expect(f).toThrow(/promo: missing/);
  };

  it('a file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'csrm-lex-')), 'broken.json');
    writeFileSync(file, JSON.stringify(broken()));
    expectBoth(() => loadLexicon(file));
    expect(() => loadLexicon(file)).toThrow(file);
  });

  it('an object, for parseLexicon and for generateMarket', () => {
    expectBoth(() => parseLexicon(broken()));
    expectBoth(() => generateMarket({ preset: 'tiny', seed: 1, lexicon: broken() }));
  });

  it('a file that is not JSON names the file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'csrm-lex-')), 'bad.json');
    writeFileSync(file, '{ "schema": ');
    expect(() => loadLexicon(file)).toThrow(new RegExp(`invalid lexicon ${file}: .*JSON`));
  });

  it('a schema-1 object is migrated, then validated (an `en` list instead of the English name)', () => {
    const v1 = JSON.parse(readFileSync(MINI_V1, 'utf8'));
    expect(parseLexicon(structuredClone(v1)).schema).toBe('csrm-lexicon/2');
    v1.brands[1].en = ['Sol', 'SOL'];
    delete v1.promo;
    const f = () => generateMarket({ preset: 'tiny', seed: 1, lexicon: v1 });
    expect(f).toThrow(/a csrm-lexicon\/1 file, migrated to csrm-lexicon\/2/);
    expect(f).toThrow(/brands\[1\]\.name: expected a string, got a list/);
    expect(f).toThrow(/promo: missing/);
  });

  it('a schema-1 file with the mistakes schema 1 let through', () => {
    const v1 = JSON.parse(readFileSync(MINI_V1, 'utf8'));
    v1.types[0].attrs.push('color');
    v1.types[1].id = 'shirt';
    v1.types[0].sizes[0] = { name: 'S' };
    v1.templates.en.title[0] += ' {attrs}';
    v1.lines[0].type = 'nope';
    const file = join(mkdtempSync(join(tmpdir(), 'csrm-lex-')), 'v1.json');
    writeFileSync(file, JSON.stringify(v1));
    const message = (() => { try { loadLexicon(file); return ''; } catch (e) { return (e as Error).message; } })();
    expect(message).toMatch(/types\[0\]\.attrs\[3\]: unknown attribute "color"/);
    expect(message).toMatch(/types\[1\]\.id: duplicate type id "shirt" \(first at types\[0\]\)/);
    expect(message).toMatch(/types\[0\]\.sizes\[0\]: expected a size id/);
    expect(message).toMatch(/templates\.en\.title\[0\]: unknown placeholder \{attrs\}/);
    expect(message).toMatch(/lines\[0\]\.type: unknown type "nope"/);
    expect(message).not.toMatch(/does not sell "nope"/);
  });
});
