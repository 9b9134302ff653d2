// A CSV file's records with errors that name it: a syntax error (an unbalanced quote) stops the
// whole file at the line where the broken field starts, in every read mode.
import { readFileNamedSync } from '../../engine/read-file.ts';
import { CsvSyntaxError, csvObjects } from './csv.ts';

export function csvObjectsIn(file: string, text: string, delimiter = ','): ReturnType<typeof csvObjects> {
  try {
    return csvObjects(text, delimiter);
  } catch (e) {
    if (e instanceof CsvSyntaxError) throw new Error(`${file}:${e.line}: ${e.reason}`);
    throw e;
  }
}

export function readCsvFile(file: string, delimiter = ','): ReturnType<typeof csvObjects> {
  return csvObjectsIn(file, readFileNamedSync(file).toString('utf8'), delimiter);
}
