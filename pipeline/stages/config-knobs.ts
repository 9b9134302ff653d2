// The one mechanism that checks settings, wherever they come from: a config file's sections (config.ts),
// the online stage's section (online/config.ts) and the command line's flags (cli/csrm.ts). A knob has
// its meaning, its default (or none: required, or optional) and its check; a section is a table of
// knobs. Errors name the key path ("sft.lr") and, through `bad`, the file or flag.

/** A test and what the value must be when it fails ("must be a positive integer"). */
export type Check = [test: (v: unknown) => boolean, need: string];

export const posInt: Check = [(v) => Number.isInteger(v) && (v as number) > 0, 'must be a positive integer'];
export const nonNegInt: Check = [(v) => Number.isInteger(v) && (v as number) >= 0, 'must be an integer ≥ 0'];
export const posNum: Check = [(v) => typeof v === 'number' && v > 0 && Number.isFinite(v), 'must be a number > 0'];
export const nonNeg: Check = [(v) => typeof v === 'number' && v >= 0 && Number.isFinite(v), 'must be a number ≥ 0'];
export const int: Check = [(v) => Number.isInteger(v), 'must be an integer'];
export const text: Check = [(v) => typeof v === 'string' && v.trim() !== '', 'must be a non-empty string'];
/** A number in an interval of [0, 1]: share('(', ']') is (0, 1]. */
export const share = (lo: '[' | '(', hi: ')' | ']'): Check => [
  (v) => typeof v === 'number' && (lo === '[' ? v >= 0 : v > 0) && (hi === ']' ? v <= 1 : v < 1),
  `outside ${lo}0, 1${hi}`,
];
export const orNull = ([t, need]: Check): Check => [(v) => v === null || t(v), need];
export const oneOf = (values: readonly unknown[]): Check => [(v) => values.includes(v), `is not one of ${values.map((x) => JSON.stringify(x)).join(', ')}`];
export const listOf = ([t, need]: Check): Check => [(v) => Array.isArray(v) && v.every(t), `must be a list whose every entry ${need.replace(/^must be /, 'is ').replace(/^outside/, 'is inside')}`];

export interface Knob {
  what: string;
  /** Absent: the file must set it (unless `optional`). A function: derived from the knobs already resolved. */
  default?: unknown | ((resolved: Record<string, unknown>) => unknown);
  /** Left out when absent: a later step fills it (e.g. per-preset defaults). */
  optional?: true;
  check: Check;
}

/** A section of knobs (and sub-sections), e.g. the config's "sft" or "rqa.ranker". */
export interface Section {
  what: string;
  optional?: true;
  knobs: Record<string, Knob | Section>;
}

const isSection = (k: Knob | Section): k is Section => 'knobs' in k;

/** "must be a positive integer" → `sft.steps -5 must be a positive integer`. */
export const knobError = (path: string, v: unknown, check: Check) => `${path} ${JSON.stringify(v)} ${check[1]}`;

/**
 * `raw` checked against `spec`, defaults filled in, unknown keys refused; `path` is the section's key
 * path ("" for the top), `bad` throws with the reason (the caller adds the file's name).
 */
export function resolveSection(raw: unknown, spec: Section, path: string, bad: (why: string) => never): Record<string, unknown> {
  const at = (k: string) => (path ? `${path}.${k}` : k);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad(`${path ? `"${path}"` : 'the config'} is not an object`);
  const obj = raw as Record<string, unknown>;
  for (const k of Object.keys(obj)) if (!(k in spec.knobs)) bad(`${at(k)} is not a knob (known: ${Object.keys(spec.knobs).join(', ')})`);
  const out: Record<string, unknown> = {};
  for (const [k, knob] of Object.entries(spec.knobs)) {
    let v = obj[k];
    if (isSection(knob)) {
      if (v === undefined && knob.optional) continue;
      if (v === undefined) bad(`missing "${at(k)}" (${knob.what})`);
      out[k] = resolveSection(v, knob, at(k), bad);
      continue;
    }
    if (v === undefined) {
      if (knob.optional) continue;
      if (!('default' in knob)) bad(`missing "${at(k)}" (${knob.what})`);
      v = typeof knob.default === 'function' ? (knob.default as (s: Record<string, unknown>) => unknown)(out) : knob.default;
    }
    if (!knob.check[0](v)) bad(knobError(at(k), v, knob.check));
    out[k] = v;
  }
  return out;
}

/** The knob at a key path ("sft.steps"), for checking a value that comes from elsewhere (a flag). */
export function knobAt(spec: Section, path: string): Knob {
  let s: Knob | Section = spec;
  for (const k of path.split('.')) {
    if (!isSection(s) || !(k in s.knobs)) throw new Error(`no knob "${path}"`);
    s = s.knobs[k]!;
  }
  if (isSection(s)) throw new Error(`"${path}" is a section, not a knob`);
  return s;
}
