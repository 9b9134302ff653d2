// Truncation under a maximum sequence length. Fields are cut in a fixed order of importance:
// the description is shortened and then dropped, then RQA titles are dropped from the last one,
// then the optional short fields; the query and the title are never cut. If even that is too long,
// the result says so (overLimit) rather than cutting the query or title.

export interface Field {
  name: string;
  value: string | string[];
  /** always: never cut; cut-first: shortened, then dropped; cut-second: list items dropped from the end; drop-last: dropped whole, last. */
  keep: 'always' | 'cut-first' | 'cut-second' | 'drop-last';
  separator?: string;
}

export interface FitResult {
  prompt: string;
  /** Tokens of the prompt plus the answer tokens reserved; NaN when no counter was given. */
  tokens: number;
  /** What was cut, in order, e.g. "description shortened", "rqa -2", "brand dropped". */
  cuts: string[];
  overLimit: boolean;
}

/** Fewest tokens worth keeping of a shortened description: a stub of one or two pieces only costs. */
const MIN_DESCRIPTION_TOKENS = 4;

export function render(instruction: string, fields: Field[], answerSlot: string): string {
  const lines = [instruction];
  for (const f of fields) {
    const v = Array.isArray(f.value) ? f.value.join(f.separator ?? ' | ') : f.value;
    if (v.trim() !== '') lines.push(`${f.name}: ${v}`);
  }
  lines.push(answerSlot);
  return lines.join('\n');
}

export function fitFields(
  instruction: string, input: Field[], answerSlot: string,
  maxTokens: number | undefined, count: ((s: string) => number) | undefined, answerTokens: number,
): FitResult {
  const fields = input.map((f) => ({ ...f, value: Array.isArray(f.value) ? [...f.value] : f.value }));
  const cuts: string[] = [];
  const size = () => (count ? count(render(instruction, fields, answerSlot)) + answerTokens : NaN);
  if (maxTokens === undefined) return { prompt: render(instruction, fields, answerSlot), tokens: size(), cuts, overLimit: false };
  if (!count) throw new Error('a token counter is needed to fit a prompt under maxTokens');
  const fits = () => size() <= maxTokens;

  for (const f of fields.filter((x) => x.keep === 'cut-first' && !fits())) {
    const full = f.value as string;
    // Longest prefix that fits, by bisection on characters.
    let lo = 0, hi = full.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      f.value = full.slice(0, mid);
      if (fits()) lo = mid; else hi = mid - 1;
    }
    f.value = full.slice(0, lo);
    const kept = lo > 0 ? count(full.slice(0, lo)) : 0;
    if (kept < MIN_DESCRIPTION_TOKENS) { f.value = ''; if (full) cuts.push(`${f.name} dropped`); }
    else if (lo < full.length) cuts.push(`${f.name} shortened`);
  }
  for (const f of fields.filter((x) => x.keep === 'cut-second')) {
    const list = f.value as string[];
    let dropped = 0;
    while (list.length && !fits()) { list.pop(); dropped++; }
    if (dropped) cuts.push(`${f.name} -${dropped}`);
  }
  for (const f of [...fields].reverse().filter((x) => x.keep === 'drop-last')) {
    if (fits()) break;
    if (f.value !== '') { f.value = ''; cuts.push(`${f.name} dropped`); }
  }
  const tokens = size();
  return { prompt: render(instruction, fields, answerSlot), tokens, cuts, overLimit: tokens > maxTokens };
}
