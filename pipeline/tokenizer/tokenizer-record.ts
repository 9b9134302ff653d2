// What a sentencepiece model was made for, kept beside it as <name>.json: the lexicon (or market
// folder) its corpus came from, the corpus recipe, its size, and the hash of the model it describes.
// The demo reuses a tokenizer only for the lexicon it was trained on (method.ts), and every model
// records the tokenizer's hash (provenance.ts). The committed tokenizer predates these records: it
// was made by scripts/train-tokenizer.sh from the default lexicon, which legacyRecord says.
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { readFileNamedSync } from '../../engine/read-file.ts';
import { sha256 } from '../io/content-hash.ts';
import { readJson, writeJson } from '../io/files.ts';
import { lexiconHash, type MarketFingerprint } from '../data/market/fingerprint.ts';
import { loadLexicon } from '../data/market/lexicon.ts';
import { DEFAULT_MODEL } from './tokenizer.ts';

export interface TokenizerRecord {
  csrm_tokenizer: 1;
  /** The lexicon whose text the corpus holds, or null (a market folder's own text). */
  lexicon: { name: string; sha256: string } | null;
  /** The market folder it was trained for (`csrm tokenizer --data`), or null. */
  market: { fingerprint: string | null; data: string } | null;
  recipe: string;
  vocabSize: number;
  /** tokenizerHash of the model this record describes. */
  model: string;
}

export const vocabPath = (model: string) => model.replace(/\.model$/, '.vocab');
export const recordPath = (model: string) => model.replace(/\.model$/, '.json');

/** The tokenizer's identity: SHA-256 of its .model and .vocab files. */
export function tokenizerHash(model: string): string {
  return sha256(Buffer.concat([readFileNamedSync(model, 'tokenizer model'), Buffer.from('\0'), readFileNamedSync(vocabPath(model), 'tokenizer vocabulary')]));
}

export function writeTokenizerRecord(model: string, r: Omit<TokenizerRecord, 'csrm_tokenizer' | 'model'>): TokenizerRecord {
  const rec: TokenizerRecord = { csrm_tokenizer: 1, ...r, model: tokenizerHash(model) };
  writeJson(recordPath(model), rec);
  return rec;
}

/** The committed model without a record: made by scripts/train-tokenizer.sh from the default lexicon. */
function legacyRecord(model: string): TokenizerRecord {
  const lex = loadLexicon();
  return { csrm_tokenizer: 1, lexicon: { name: lex.name, sha256: lexiconHash(lex) }, market: null, recipe: 'scripts/train-tokenizer.sh (committed before tokenizer records)', vocabSize: 3000, model: tokenizerHash(model) };
}

/** The model's record, checked against the model; null for a model without one (other than the committed model). */
export function readTokenizerRecord(model: string): TokenizerRecord | null {
  const f = recordPath(model);
  if (!existsSync(f)) return model === DEFAULT_MODEL ? legacyRecord(model) : null;
  const r = readJson<TokenizerRecord>(f);
  if (r?.csrm_tokenizer !== 1) throw new Error(`${f}: not a tokenizer record`);
  const now = tokenizerHash(model);
  if (r.model !== now) throw new Error(`${f} describes tokenizer ${r.model.slice(0, 12)}…, but ${model} is ${now.slice(0, 12)}…: the model changed after its record was written. Retrain it with \`csrm tokenizer\``);
  return r;
}

/** Whether a tokenizer was made for this market: trained on its lexicon, or on this very market folder. */
export function tokenizerFits(r: TokenizerRecord | null, fp: MarketFingerprint): boolean {
  if (!r) return false;
  return r.lexicon !== null ? r.lexicon.sha256 === fp.lexicon.sha256 : r.market?.fingerprint === fp.sha256;
}

/**
 * The committed tokenizers: the default lexicon's (DEFAULT_MODEL) and one per other lexicon of the
 * project, each in its own folder beside it (pipeline/tokenizer/<lexicon>/csrm-spm.model with its
 * record), made by `csrm tokenizer --lexicon FILE`.
 */
export function committedTokenizers(): string[] {
  const root = dirname(DEFAULT_MODEL);
  const others = readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(root, d.name, basename(DEFAULT_MODEL)))
    .filter((p) => existsSync(p))
    .sort();
  return [DEFAULT_MODEL, ...others];
}

/** The committed tokenizer made for this market's lexicon, or null. */
export function committedTokenizerFor(fp: MarketFingerprint): string | null {
  return committedTokenizers().find((p) => tokenizerFits(readTokenizerRecord(p), fp)) ?? null;
}

/** What a model file records of its tokenizer: the path from the model file's folder, and the tokenizer's hash. */
export interface TokenizerRef {
  path: string;
  sha256: string;
}

export function tokenizerRef(owner: string, tokenizer: string): TokenizerRef {
  return { path: relative(dirname(resolve(owner)), resolve(tokenizer)), sha256: tokenizerHash(tokenizer) };
}

/**
 * The tokenizer a model file (`owner`, described as `what`) was made with: `override` when given,
 * else the path it records (from its folder), else a committed tokenizer (committedTokenizers) with
 * the recorded hash; whichever, its hash must be the recorded one. A file without a record (made before records
 * were kept, or imported) uses the committed tokenizer unless told otherwise.
 */
export function recordedTokenizer(what: string, owner: string, rec: TokenizerRef | undefined, override?: string | null): { path: string; hash: string } {
  if (!rec) {
    const path = override ?? DEFAULT_MODEL;
    return { path, hash: tokenizerHash(path) };
  }
  const recorded = isAbsolute(rec.path) ? rec.path : join(dirname(resolve(owner)), rec.path);
  const candidates = override ? [override] : [...new Set([recorded, ...committedTokenizers()])].filter((p) => existsSync(p));
  for (const path of candidates) {
    const hash = tokenizerHash(path);
    if (hash === rec.sha256) return { path, hash };
    if (override) throw new Error(`${what} was made with tokenizer sha256 ${rec.sha256.slice(0, 12)}… (${recorded}); --tokenizer ${override} is ${hash.slice(0, 12)}…. Use its own tokenizer, or make it again with this one`);
  }
  throw new Error(`${what} was made with tokenizer sha256 ${rec.sha256.slice(0, 12)}…, recorded at ${recorded}, which is ${existsSync(recorded) ? 'another model now' : 'gone'}; pass that tokenizer with --tokenizer FILE`);
}
