// `csrm generate --preset P --seed S --out DIR [--lexicon FILE] [--format jsonl|csv|parquet]`:
// builds the synthetic cross-border market and writes it with a summary.
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BRIDGE_ATTRIBUTION, readDictionaryBridge } from '../data/dictionary-bridge.ts';
import { generateMarket } from '../data/market/generate.ts';
import { PRESET_SIZES, PRESETS, type PresetName } from '../data/market/presets.ts';
import { summaryText, writeMarket } from '../data/market/write.ts';
import type { Format } from '../data/records.ts';
import { int, knobError, nonNegInt, oneOf, share, type Check } from '../stages/config-knobs.ts';

/** A flag's value through the knobs' checks (config-knobs.ts): the same words as a config file's errors. */
function checked<T>(flag: string, v: unknown, check: Check): T {
  if (!check[0](v)) throw new Error(`${knobError(`--${flag}`, v, check)}\n${GENERATE_USAGE}`);
  return v as T;
}
const num = (v: string | undefined) => (v === undefined ? undefined : v.trim() === '' ? NaN : Number(v));

export const GENERATE_USAGE =
  'usage: csrm generate --preset tiny|demo|paper --out DIR [--seed N] [--lexicon FILE] [--format jsonl|csv|parquet] [--noise RATE]\n'
  + '       [--bridge-words N [--bridge-dir DIR]]  add N Korean→Chinese word pairs from the Hanja–CEDICT bridge';

/** Where the shared dictionaries live next to a checkout (shared/data/lexicons). */
export const DEFAULT_BRIDGE_DIR = fileURLToPath(new URL('../../../shared/data/lexicons', import.meta.url));

export interface GenerateArgs {
  preset: PresetName; seed: number; out: string; lexicon?: string; format: Format; noise?: number;
  bridgeWords?: number; bridgeDir?: string;
}

export function parseGenerateArgs(argv: string[]): GenerateArgs {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return undefined;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value\n${GENERATE_USAGE}`);
    return v;
  };
  for (const a of argv) if (a.startsWith('--') && !['--preset', '--seed', '--out', '--lexicon', '--format', '--noise', '--bridge-words', '--bridge-dir'].includes(a))
    throw new Error(`unknown option ${a}\n${GENERATE_USAGE}`);
  const preset = checked<PresetName>('preset', get('preset') ?? 'demo', oneOf(PRESETS));
  const seed = checked<number>('seed', num(get('seed') ?? '1'), int);
  const out = get('out');
  if (!out) throw new Error(`--out is required\n${GENERATE_USAGE}`);
  const format = checked<Format>('format', get('format') ?? 'jsonl', oneOf(['jsonl', 'csv', 'parquet']));
  const noise = get('noise') === undefined ? undefined : checked<number>('noise', num(get('noise')), share('[', ']'));
  const bridgeWords = get('bridge-words') === undefined ? undefined : checked<number>('bridge-words', num(get('bridge-words')), nonNegInt);
  const bridgeDir = get('bridge-dir');
  return {
    preset, seed, out, lexicon: get('lexicon'), format,
    ...(noise === undefined ? {} : { noise }),
    ...(bridgeWords === undefined ? {} : { bridgeWords }),
    ...(bridgeDir === undefined ? {} : { bridgeDir }),
  };
}

/** Entry point the central `csrm` CLI dispatches to; returns the summary text it printed. */
export function runGenerate(argv: string[], print: (s: string) => void = (s) => process.stdout.write(s)): string {
  const args = parseGenerateArgs(argv);
  const t0 = performance.now();
  const base = PRESET_SIZES[args.preset];
  const dir = args.bridgeDir ?? DEFAULT_BRIDGE_DIR;
  const bridge = args.bridgeWords
    ? readDictionaryBridge(join(dir, 'ko_hanja_libhangul_hanja.txt.gz'), join(dir, 'cc_cedict_ts_2019-05-27.u8.gz'))
      .map((e) => ({ source: e.ko, target: e.zh }))
    : undefined;
  const market = generateMarket({
    preset: args.preset, seed: args.seed, lexicon: args.lexicon, bridge, bridgeAttribution: BRIDGE_ATTRIBUTION,
    size: {
      ...(args.noise === undefined ? {} : { noiseRate: args.noise }),
      ...(args.bridgeWords ? { translations: { ...base.translations, word: args.bridgeWords } } : {}),
    },
  });
  const files = writeMarket(market, args.out, args.format);
  const text = summaryText(market.summary)
    + `wrote ${files.length} files to ${args.out} in ${((performance.now() - t0) / 1000).toFixed(2)} s\n`;
  print(text);
  return text;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try { runGenerate(process.argv.slice(2)); } catch (e) { console.error((e as Error).message); process.exit(2); }
}
