// RFC 4180 CSV: quoted fields may hold commas, doubled quotes and line breaks (the ESCI extracts
// have multi-line descriptions), so records are found by a small state machine, not by splitting lines.
// The delimiter is a parameter because WANDS ships tab-separated files under a .csv name.

export interface CsvRecord {
  /** 1-based line of the file where the record starts, for error reports. */
  line: number;
  fields: string[];
}

export function parseCsv(text: string, delimiter = ','): CsvRecord[] {
  const out: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let line = 1;
  let startLine = 1;
  let atRecordStart = true;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a byte-order mark is not data
  const endField = () => { fields.push(field); field = ''; };
  const endRecord = () => {
    endField();
    out.push({ line: startLine, fields });
    fields = [];
    atRecordStart = true;
  };
  for (; i < text.length; i++) {
    const c = text[i];
    if (atRecordStart) { startLine = line; atRecordStart = false; }
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else inQuotes = false;
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field === '') inQuotes = true;
    else if (c === delimiter) endField();
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      line++;
      endRecord();
    } else field += c;
  }
  if (!atRecordStart) endRecord();
  return out;
}

function quote(v: string): string {
  return /[",\r\n]/.test(v) || v !== v.trim() ? '"' + v.replace(/"/g, '""') + '"' : v;
}

export function writeCsv(header: string[], rows: (string | number)[][]): string {
  const lines = [header.map(quote).join(',')];
  for (const r of rows) lines.push(r.map((v) => quote(String(v))).join(','));
  return lines.join('\n') + '\n';
}

/** CSV records as objects keyed by the header row. Short rows lack the missing columns. */
export function csvObjects(text: string, delimiter = ','): {
  header: string[];
  rows: { line: number; row: Record<string, string>; width: number }[];
} {
  const recs = parseCsv(text, delimiter);
  if (recs.length === 0) return { header: [], rows: [] };
  const header = recs[0].fields;
  const rows = recs.slice(1)
    .filter((r) => !(r.fields.length === 1 && r.fields[0] === '')) // blank lines are not records
    .map((r) => {
      const row: Record<string, string> = {};
      header.forEach((h, j) => { if (j < r.fields.length) row[h] = r.fields[j]; });
      return { line: r.line, row, width: r.fields.length };
    });
  return { header, rows };
}
