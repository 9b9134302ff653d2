// Provenance: every artefact of a run (base model, stage checkpoints, soft labels, rqa.jsonl, towers,
// embeddings, result.json and eval.json) records the content hashes of what it was made from — the
// market's data, the tokenizer, the base model, the stage it continues, its soft labels and RQA
// titles, and the settings that made it. Whoever loads or reuses it compares that record with what
// it has now and refuses a mismatch, naming both hashes and the command that rebuilds it: a stage is
// never evaluated on another base, resumed with other settings, or reused after its inputs changed.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { readFileNamedSync } from '../../engine/read-file.ts';
import { sha256, valueHash } from '../io/content-hash.ts';

/** Named content hashes (hex SHA-256) of what an artefact was made from; "none" where it had no such input. */
export type Provenance = Record<string, string>;

/** Written next to the hashes: the settings in words, so a refusal can say which of them differ. */
export interface ProvenanceRecord {
  hashes: Provenance;
  settings?: Record<string, unknown>;
  /** Where the inputs were (for messages only: a file's identity is its hash). */
  paths?: Record<string, string>;
}

export const NONE = 'none';

export const settingsHash = (settings: unknown) => valueHash(settings);

export function fileSha256(path: string, what = 'file'): string {
  return sha256(readFileNamedSync(path, what));
}

const DATA_DIRS = ['relevance', 'catalogue', 'behaviour', 'translation', 'truth'];

/**
 * The content hash of a market folder's data: every file of its data folders (relevance, catalogue,
 * behaviour, translation, truth), by path and content. Two folders with the same files hash the same.
 */
export function marketDataHash(dir: string): string {
  if (!existsSync(dir)) throw new Error(`market folder ${dir} does not exist`);
  const lines: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const f = join(d, name);
      if (statSync(f).isDirectory()) walk(f);
      else lines.push(`${relative(dir, f).split(sep).join('/')}\0${fileSha256(f, 'market file')}`);
    }
  };
  for (const sub of DATA_DIRS) if (existsSync(join(dir, sub))) walk(join(dir, sub));
  if (lines.length === 0) throw new Error(`market folder ${dir} has no data files (${DATA_DIRS.join(', ')})`);
  return sha256(lines.join('\n'));
}

const short = (h: string | undefined) => (h === undefined ? 'nothing recorded' : h === NONE ? 'none' : `${h.slice(0, 12)}…`);

/** "a → b" for each setting that differs (key paths), so a refusal says what changed. */
export function settingsDiff(was: Record<string, unknown> | undefined, now: Record<string, unknown> | undefined): string[] {
  if (!was || !now) return [];
  const flat = (o: unknown, p: string, out: Map<string, string>) => {
    if (o && typeof o === 'object' && !Array.isArray(o)) for (const [k, v] of Object.entries(o)) flat(v, p ? `${p}.${k}` : k, out);
    else out.set(p, JSON.stringify(o));
    return out;
  };
  const a = flat(was, '', new Map()), b = flat(now, '', new Map());
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k)).map((k) => `${k} ${a.get(k) ?? '(absent)'} → ${b.get(k) ?? '(absent)'}`);
}

/** The inputs whose hashes differ, in words ("base 1a2b… here, 3c4d… now"); empty when they agree. */
export function provenanceMismatch(recorded: ProvenanceRecord | undefined | null, expected: ProvenanceRecord): string[] {
  const rec = recorded?.hashes ?? {};
  const out: string[] = [];
  for (const [k, want] of Object.entries(expected.hashes)) {
    if (rec[k] === want) continue;
    const diff = k === 'settings' ? settingsDiff(recorded?.settings, expected.settings) : [];
    out.push(`${k} ${short(rec[k])} was recorded, ${short(want)} now${diff.length ? ` (${diff.join(', ')})` : ''}`);
  }
  return out;
}

/**
 * Throws unless `recorded` (what the artefact says it was made from) matches `expected` (what this
 * run has); the message names the artefact, each differing input with both hashes, and `rebuild`.
 */
export function checkProvenance(artefact: string, recorded: ProvenanceRecord | undefined | null, expected: ProvenanceRecord, rebuild: string): void {
  if (!recorded || typeof recorded !== 'object' || !recorded.hashes) {
    throw new Error(`${artefact} has no record of what it was made from (made before provenance was kept, or by hand); refusing to use it. Rebuild it: ${rebuild}`);
  }
  const diff = provenanceMismatch(recorded, expected);
  if (diff.length) throw new Error(`${artefact} was made from other inputs than this run's: ${diff.join('; ')}. Refusing to reuse it. Rebuild it: ${rebuild}`);
}

/** A provenance record: the named hashes, with the settings hashed in as "settings". */
export function provenance(hashes: Provenance, settings?: Record<string, unknown>, paths?: Record<string, string>): ProvenanceRecord {
  const r: ProvenanceRecord = settings ? { hashes: { ...hashes, settings: settingsHash(settings) }, settings } : { hashes };
  if (paths) r.paths = paths;
  return r;
}
