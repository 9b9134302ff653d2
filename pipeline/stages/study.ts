// `csrm study`: the method's fine-tuning stages with N fine-tuning seeds on one market and one base
// model, so that the report can tell a technique's effect from the luck of a seed. The study folder
// holds what the seeds share (data/, base.ckpt, the RQA runs rqa/ and rqa-star/, and tokenizer/ when
// the market needs its own) and a folder per seed (seed-1 … seed-N), each a complete run of the
// method with sft.seed = the config's seed + k − 1 (seed-1 is the config's own run). Resumable like the method: a rerun skips every
// finished stage of every seed, and a rerun with more seeds adds the new ones. The study's report
// (report.md / report.json in the study folder) gives each row as mean ± sd over the seeds beside
// the pooled paired intervals.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonIf, writeJson } from '../io/files.ts';
import { writeReport } from '../report/report.ts';
import type { MethodConfig } from './config.ts';
import { runMethod, type RunOpts } from './method.ts';

export interface StudyRecord {
  /** The config every seed runs (with its own sft.seed). */
  config: MethodConfig;
  seeds: number;
}

export const seedFolder = (dir: string, k: number) => join(dir, `seed-${k}`);

/** Seed k's config (k from 1): the study's config with sft.seed shifted by k − 1. */
export function seedConfig(c: MethodConfig, k: number): MethodConfig {
  return { ...c, sft: { ...c.sft, seed: c.sft.seed + k - 1 } };
}

/** The study recorded in `dir`, or null when there is none. */
export function readStudy(dir: string): StudyRecord | null {
  return readJsonIf<StudyRecord>(join(dir, 'study.json'));
}

/** The seed folders of a study that exist, in seed order. */
export function studySeedFolders(dir: string, seeds: number): string[] {
  return Array.from({ length: seeds }, (_, i) => seedFolder(dir, i + 1)).filter((d) => existsSync(d));
}

export async function runStudy(c: MethodConfig, dir: string, seeds: number, opts: Omit<RunOpts, 'shared'> = {}): Promise<string[]> {
  if (!(Number.isInteger(seeds) && seeds >= 1)) throw new Error(`csrm study: --seeds must be a positive integer, got ${seeds}`);
  const log = opts.log ?? ((s: string) => console.error(s));
  const was = readStudy(dir);
  if (was && JSON.stringify(was.config) !== JSON.stringify(c)) {
    throw new Error(`${dir}/study.json records a study of another config ("${was.config.name}"; the settings differ): use another folder, or delete ${dir} to start over`);
  }
  const n = Math.max(seeds, was?.seeds ?? 0);
  writeJson(join(dir, 'study.json'), { config: c, seeds: n } satisfies StudyRecord);
  for (let k = 1; k <= seeds; k++) {
    const sc = seedConfig(c, k);
    log(`study "${c.name}": seed ${k} of ${seeds} (sft.seed ${sc.sft.seed}) in ${seedFolder(dir, k)}`);
    await runMethod(sc, seedFolder(dir, k), { ...opts, shared: dir });
  }
  const files = await writeReport(dir, c, { seeds: studySeedFolders(dir, n), shared: dir });
  log(`study report: ${files.join(', ')}`);
  return files;
}
