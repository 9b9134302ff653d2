// Converts a csrm-lexicon/1 file to csrm-lexicon/2 (what changes: pipeline/data/market/lexicon-migrate.ts),
// validates the result and writes it in the lexicons' layout: one concept per line.
// usage: tsx scripts/migrate-lexicon.ts IN.json OUT.json
import { readFileSync, writeFileSync } from 'node:fs';
import { parseLexicon } from '../pipeline/data/market/lexicon.ts';
import { migrateLexiconV1, SCHEMA_V1 } from '../pipeline/data/market/lexicon-migrate.ts';

const WIDTH = 110;

function inline(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(inline).join(', ')}]`;
  if (v && typeof v === 'object') {
    const es = Object.entries(v);
    return es.length ? `{ ${es.map(([k, x]) => `${JSON.stringify(k)}: ${inline(x)}`).join(', ')} }` : '{}';
  }
  return JSON.stringify(v);
}

/** Lists of records one per line; anything else inline when it fits in WIDTH, else one entry per line. */
export function formatLexicon(v: unknown, indent = 0): string {
  const pad = ' '.repeat(indent + 2), end = ' '.repeat(indent);
  const records = Array.isArray(v) && v.length > 0 && v.every((x) => x && typeof x === 'object' && !Array.isArray(x));
  if (indent > 0 && !records && inline(v).length + indent <= WIDTH) return inline(v);
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[\n${v.map((x) => pad + (records ? inline(x) : formatLexicon(x, indent + 2))).join(',\n')}\n${end}]`;
  }
  if (v && typeof v === 'object') {
    const es = Object.entries(v);
    if (es.length === 0) return '{}';
    return `{\n${es.map(([k, x]) => `${pad}${JSON.stringify(k)}: ${formatLexicon(x, indent + 2)}`).join(',\n')}\n${end}}`;
  }
  return JSON.stringify(v);
}

const [input, output] = process.argv.slice(2);
if (!input || !output) { console.error('usage: tsx scripts/migrate-lexicon.ts IN.json OUT.json'); process.exit(2); }
const raw = JSON.parse(readFileSync(input, 'utf8')) as { schema?: unknown };
if (raw.schema !== SCHEMA_V1) { console.error(`${input}: schema is ${JSON.stringify(raw.schema)}, not ${SCHEMA_V1}`); process.exit(2); }
const v2 = migrateLexiconV1(raw);
try { parseLexicon(v2, output); } catch (e) { console.error((e as Error).message); process.exit(1); }
writeFileSync(output, formatLexicon(v2) + '\n');
console.error(`${input} (${SCHEMA_V1}) → ${output} (csrm-lexicon/2)`);
