// Converts a csrm-lexicon/1 file to csrm-lexicon/2 (what changes: pipeline/data/market/lexicon-migrate.ts),
// validates the result and writes it in the lexicons' layout: one concept per line.
// usage: tsx scripts/migrate-lexicon.ts IN.json OUT.json
import { readFileSync, writeFileSync } from 'node:fs';
import { parseLexicon } from '../pipeline/data/market/lexicon.ts';
import { formatLexicon } from '../pipeline/data/market/lexicon-format.ts';
import { migrateLexiconV1, SCHEMA_V1 } from '../pipeline/data/market/lexicon-migrate.ts';

const [input, output] = process.argv.slice(2);
if (!input || !output) { console.error('usage: tsx scripts/migrate-lexicon.ts IN.json OUT.json'); process.exit(2); }
const raw = JSON.parse(readFileSync(input, 'utf8')) as { schema?: unknown };
if (raw.schema !== SCHEMA_V1) { console.error(`${input}: schema is ${JSON.stringify(raw.schema)}, not ${SCHEMA_V1}`); process.exit(2); }
const v2 = migrateLexiconV1(raw);
try { parseLexicon(v2, output); } catch (e) { console.error((e as Error).message); process.exit(1); }
writeFileSync(output, formatLexicon(v2) + '\n');
console.error(`${input} (${SCHEMA_V1}) → ${output} (csrm-lexicon/2)`);
