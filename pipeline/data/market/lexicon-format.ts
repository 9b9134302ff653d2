// The layout of the lexicon files: one concept per line, so that a diff shows which concept changed.
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
