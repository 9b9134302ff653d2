// Dictionary matching by token boundaries, with the boundary each script has:
//   - Latin (and other space-delimited alphabets, and digits): a word starts and ends where the
//     letters stop, so "Dove" is not found in "Dovetail";
//   - Hangul, Han and Kana write compounds and attach particles without spaces ("나이키운동화",
//     "耐吉運動鞋", "나이키의"), so a word may end anywhere, but it must start at a token start: the
//     start of the run of that script, or the end of a dictionary word matched before it. The brand
//     려 is therefore not found in 반려동물: 려 starts neither a run nor after a known word.
// Matching is greedy longest-first from each token start; an unknown stretch of an unspaced script
// yields no token starts until the script changes.

export type ScriptClass = 'spaced' | 'unspaced' | 'separator';

const SPACED = /[\p{L}\p{N}\p{M}]/u;
const UNSPACED = /[\p{Script=Hangul}\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}]/u;

/** The boundary rule of one character's script; a letter and a digit of a spaced script are one class. */
export function scriptClass(ch: string): ScriptClass {
  if (UNSPACED.test(ch)) return 'unspaced';
  if (SPACED.test(ch)) return 'spaced';
  return 'separator';
}

/** The script of an unspaced character (Hangul and Han runs are separate runs). */
function runKey(ch: string): string {
  if (/\p{Script=Hangul}/u.test(ch)) return 'hangul';
  if (/[\p{Script=Hiragana}\p{Script=Katakana}]/u.test(ch)) return 'kana';
  return scriptClass(ch) === 'unspaced' ? (/\p{Script=Thai}/u.test(ch) ? 'thai' : 'han') : scriptClass(ch);
}

/** Lower case that keeps every index (a few letters, like İ, lower to two code units: kept as they are). */
function lowerSameLength(text: string): string {
  const low = text.toLowerCase();
  return low.length === text.length ? low : text.replace(/./gsu, (c) => (c.toLowerCase().length === c.length ? c.toLowerCase() : c));
}

export interface Token<V> { start: number; end: number; text: string; values: V[] }

/** A matcher tried at token starts besides the dictionary (e.g. "{n}개입" pack counts). */
export type PatternMatcher<V> = (rest: string) => { length: number; value: V } | null;

export class Dictionary<V> {
  private readonly entries = new Map<string, V[]>();
  private maxLen = 0;

  add(surface: string, value: V): void {
    const key = lowerSameLength(surface);
    if (!key) return;
    const vs = this.entries.get(key);
    if (vs) vs.push(value); else this.entries.set(key, [value]);
    this.maxLen = Math.max(this.maxLen, key.length);
  }

  /** Whether `pos` starts a token: the text's start, after a separator, at a change of script. */
  static startsToken(text: string, pos: number): boolean {
    if (pos === 0) return true;
    const prev = text[pos - 1], cur = text[pos];
    if (scriptClass(prev) === 'separator' || scriptClass(cur) === 'separator') return true;
    return runKey(prev) !== runKey(cur);
  }

  /** Whether a word ending at `end` (exclusive) may end there. */
  static endsToken(text: string, end: number): boolean {
    if (end >= text.length) return true;
    const last = text[end - 1];
    if (scriptClass(last) !== 'spaced') return true;
    return scriptClass(text[end]) !== 'spaced';
  }

  /** The dictionary words (and pattern matches) of `text`, left to right. */
  tokens(text: string, patterns: readonly PatternMatcher<V>[] = []): Token<V>[] {
    const low = lowerSameLength(text);
    const out: Token<V>[] = [];
    let afterWord = -1;
    for (let pos = 0; pos < low.length;) {
      if (pos !== afterWord && !Dictionary.startsToken(low, pos)) { pos++; continue; }
      let len = 0, values: V[] | undefined;
      for (let n = Math.min(this.maxLen, low.length - pos); n > 0; n--) {
        const vs = this.entries.get(low.slice(pos, pos + n));
        if (vs && Dictionary.endsToken(low, pos + n)) { len = n; values = vs; break; }
      }
      for (const match of patterns) {
        const m = match(low.slice(pos));
        if (m && m.length > len && Dictionary.endsToken(low, pos + m.length)) { len = m.length; values = [m.value]; }
      }
      if (!values) { pos++; continue; }
      out.push({ start: pos, end: pos + len, text: text.slice(pos, pos + len), values });
      pos += len;
      afterWord = pos;
    }
    return out;
  }
}
