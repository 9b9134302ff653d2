// A real Korean ↔ Traditional-Chinese ↔ English word bridge from two public dictionaries:
// libhangul's Hanja list (BSD-3-Clause, Choe Hwanjin; `hangul:hanja:comment` lines) and CC-CEDICT
// (CC BY-SA 4.0, MDBG; `Traditional Simplified [pinyin] /gloss/…/`), joined on the Hanja spelling.
// Sino-Korean words often differ from modern Taiwanese usage (冷藏庫 vs 冰箱), so the bridge is
// real but partial: it maps words, not the market's own vocabulary.
import { readFileNamedSync } from '../../engine/read-file.ts';
import { gunzipSync } from 'node:zlib';

export interface BridgeEntry {
  ko: string;
  /** Traditional-Chinese headword (the Hanja spelling of the Korean word). */
  zh: string;
  /** First English gloss of the headword in CC-CEDICT. */
  en: string;
}

export const BRIDGE_ATTRIBUTION =
  'Korean–Hanja pairs: libhangul hanja.txt (BSD-3-Clause, Choe Hwanjin); Chinese headwords and '
  + 'English glosses: CC-CEDICT 2019-05-27 (CC BY-SA 4.0, MDBG).';

const HAN = /^\p{Script=Han}+$/u;
const HANGUL = /^\p{Script=Hangul}+$/u;

function text(file: string): string {
  const bytes = readFileNamedSync(file);
  try {
    return (file.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  } catch (e) {
    throw new Error(`${file}: not a readable gzip file (${(e as Error).message})`);
  }
}

/** Korean word → Hanja spelling, for words written wholly in Hangul and Hanja of the same length. */
export function parseHanjaList(src: string): [string, string][] {
  const out: [string, string][] = [];
  for (const line of src.split('\n')) {
    if (line.startsWith('#') || !line.includes(':')) continue;
    const [ko, hanja] = line.split(':');
    if (ko.length >= 2 && ko.length === hanja.length && HANGUL.test(ko) && HAN.test(hanja)) out.push([ko, hanja]);
  }
  return out;
}

/** Traditional headword → first gloss that is a meaning (not a classifier, variant or surname note). */
export function parseCedict(src: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of src.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^(\S+) \S+ \[[^\]]*\] \/(.*)\/\s*$/.exec(line);
    if (!m || out.has(m[1])) continue;
    const gloss = m[2].split('/').find((g) => g && !/^(CL:|variant of|old variant|surname |see )/.test(g));
    if (gloss) out.set(m[1], gloss);
  }
  return out;
}

/** The joined bridge, sorted and without duplicates, so that it is the same on every machine. */
export function readDictionaryBridge(hanjaFile: string, cedictFile: string): BridgeEntry[] {
  const cedict = parseCedict(text(cedictFile));
  const seen = new Set<string>();
  const out: BridgeEntry[] = [];
  for (const [ko, zh] of parseHanjaList(text(hanjaFile))) {
    const en = cedict.get(zh);
    const key = `${ko}\u0000${zh}`;
    if (en && !seen.has(key)) { seen.add(key); out.push({ ko, zh, en }); }
  }
  return out.sort((a, b) => (a.ko < b.ko ? -1 : a.ko > b.ko ? 1 : a.zh < b.zh ? -1 : a.zh > b.zh ? 1 : 0));
}
