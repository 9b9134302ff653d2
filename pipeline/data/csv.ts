// RFC 4180 CSV: quoted fields may hold commas, doubled quotes and line breaks (the ESCI extracts
// have multi-line descriptions), so records are found by a small state machine, not by splitting lines.
// The delimiter is a parameter because WANDS ships tab-separated files under a .csv name.

export interface CsvRecord {
  /** 1-based line of the file where the record starts, for error reports. */
  line: number;
  /** 1-based line where it ends: later than `line` when a quoted field holds line breaks. */
  endLine: number;
  fields: string[];
}

/**
 * Text that is not CSV: a quote never closed, or text after a closing quote. It concerns the file's
 * structure, not one row: past it, where records begin is unknown, so no reader may skip it.
 */
export class CsvSyntaxError extends Error {
  constructor(readonly line: number, readonly reason: string) {
    super(`line ${line}: ${reason}`);
  }
}

// A quote inside an unquoted field (`24" wide`) is kept as text, as most writers emit it; a quote
// that opens a field must close it, and only a delimiter or a line break may follow the close.
export function parseCsv(text: string, delimiter = ','): CsvRecord[] {
  const out: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  let quoteLine = 0; // where the open quoted field starts
  let line = 1;
  let startLine = 1;
  let atRecordStart = true;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a byte-order mark is not data
  let quotedJustClosed = false;
  const endField = () => { fields.push(field); field = ''; quotedJustClosed = false; };
  const endRecord = () => {
    endField();
    out.push({ line: startLine, endLine: line, fields });
    fields = [];
    atRecordStart = true;
  };
  for (; i < text.length; i++) {
    const c = text[i];
    if (atRecordStart) { startLine = line; atRecordStart = false; }
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else { inQuotes = false; quotedJustClosed = true; }
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === delimiter) endField();
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
    } else if (quotedJustClosed) {
      const where = quoteLine === line ? '' : ` (the field opened on line ${quoteLine})`;
      throw new CsvSyntaxError(quoteLine, `unexpected ${JSON.stringify(c)} after the closing quote of a quoted field on line ${line}${where}: an unbalanced '"'?`);
    } else if (c === '"' && field === '') { inQuotes = true; quoteLine = line; }
    else field += c;
  }
  if (inQuotes) throw new CsvSyntaxError(quoteLine, `unterminated quote: the quoted field starting on line ${quoteLine} runs to the end of the file`);
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
  rows: { line: number; endLine: number; row: Record<string, string>; width: number }[];
} {
  const recs = parseCsv(text, delimiter);
  if (recs.length === 0) return { header: [], rows: [] };
  const header = recs[0].fields;
  const rows = recs.slice(1)
    .filter((r) => !(r.fields.length === 1 && r.fields[0] === '')) // blank lines are not records
    .map((r) => {
      const row: Record<string, string> = {};
      header.forEach((h, j) => { if (j < r.fields.length) row[h] = r.fields[j]; });
      return { line: r.line, endLine: r.endLine, row, width: r.fields.length };
    });
  return { header, rows };
}
