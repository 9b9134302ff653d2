// The whole CSRM method on one market, stage after stage, every stage reading and writing files in
// the run folder (so any stage can be rerun alone, and a rerun skips what is done — only when what
// is done was made from the same inputs, provenance.ts):
// generate → tokenizer → base model → the fine-tuning stages of the stage table (Stage 1 ±MT ±RQA,
// Stage 2 ±RQA*, self-distillation rounds, the Figure 3 sweep), with RQA and soft labels made when a
// stage first needs them → transfer gap → online distillation → report.
// The market is the config's (market.lexicon, preset, seed). The committed tokenizer and base model
// are reused only when they were made for this market (its fingerprint) and, for the base, with the
// config's pretraining settings; otherwise the run trains its own (`csrm tokenizer`, `csrm pretrain`).
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkpointDigest, getGpu, readCheckpointMeta } from '../../engine/index.ts';
import { PRESETS as MODEL_PRESETS, type LlamaConfig } from '../../models/llama-config.ts';
import { marketFingerprint, type MarketFingerprint } from '../data/market/fingerprint.ts';
import { generateMarket } from '../data/market/generate.ts';
import { DEFAULT_LEXICON, loadLexicon } from '../data/market/lexicon.ts';
import { PRESET_SIZES } from '../data/market/presets.ts';
import { writeMarket } from '../data/market/write.ts';
import { canonicalJson } from '../io/content-hash.ts';
import { readJsonIf, writeJson } from '../io/files.ts';
import { writeReport } from '../report/report.ts';
import { DEFAULT_MODEL } from '../tokenizer/tokenizer.ts';
import { committedTokenizerFor, readTokenizerRecord, tokenizerFits, tokenizerHash } from '../tokenizer/tokenizer-record.ts';
import type { MethodConfig } from './config.ts';
import { measureTransferGap } from './gap.ts';
import { labelModel, labelRecords } from './label.ts';
import { loadMarketData, readMarketFingerprint } from './market-data.ts';
import { loadAdapters, loadBase, loadBaseTokenizer, readBase, type BaseMeta } from './model-io.ts';
import { pretrainSettings, runPretrain } from './pretrain.ts';
import { checkProvenance, marketDataHash, provenance, type ProvenanceRecord } from './provenance.ts';
import { TOKENIZER_NAME, trainTokenizer } from './tokenizer-stage.ts';
import { pickTeacher, runOnlineStage } from './online-stage.ts';
import { runSftStage, stageTrainRecords, withRqa } from './sft-stage.ts';
import { methodStages, softLabelsPath, stageRunOpts, teacherCandidates, TRANSFER_GAP_STAGES, type RqaKind, type StageSpec } from './stage-table.ts';
import { disposeLlama } from '../../models/llama.ts';

export interface StageTiming {
  stage: string;
  seconds: number;
}

/**
 * Where a committed base checkpoint for a config lives (reproduced by `csrm pretrain` from its seed):
 * base/<config>-<preset>.ckpt for the default lexicon, base/<config>-<preset>-<lexicon>.ckpt for
 * another of the project's lexicons.
 */
export function committedBase(c: MethodConfig): string {
  const lex = c.market.lexicon;
  const other = lex && resolve(lex) !== resolve(DEFAULT_LEXICON) ? `-${basename(lex, '.json')}` : '';
  return fileURLToPath(new URL(`../base/${c.name}-${c.model.preset}${other}.ckpt`, import.meta.url));
}

/** The `csrm pretrain` command that reproduces committedBase(c). */
export function pretrainCommand(c: MethodConfig, out = relative(process.cwd(), committedBase(c))): string {
  const lex = c.market.lexicon && resolve(c.market.lexicon) !== resolve(DEFAULT_LEXICON) ? ` --lexicon ${relative(process.cwd(), c.market.lexicon)}` : '';
  return `csrm pretrain --config ${c.name}${lex} --out ${out}`;
}

/** The fingerprint of the config's market (what `generate` makes from market.lexicon, preset and seed). */
export function configFingerprint(c: MethodConfig): MarketFingerprint {
  const file = c.market.lexicon ?? DEFAULT_LEXICON;
  const size = { ...PRESET_SIZES[c.market.preset], dev: c.market.dev, test: c.market.test };
  return marketFingerprint({ lexicon: loadLexicon(file), lexiconFile: file, preset: c.market.preset, seed: c.market.seed, size });
}

/**
 * Why a base checkpoint does not fit a run (null when it does): made for another market, with
 * another tokenizer, another model size or other pretraining settings. A base from before bases
 * recorded their market and tokenizer (the committed pipeline/base/*.ckpt files) was pretrained by
 * `csrm pretrain --config NAME` on that config's market from the default lexicon with the committed
 * tokenizer; its fingerprint is taken from that, and its pretraining settings from the four its meta has.
 */
export async function baseMismatch(path: string, c: MethodConfig, fp: MarketFingerprint, tokenizer: string): Promise<string | null> {
  const ck = await readCheckpointMeta(path);
  const meta = (ck.meta ?? {}) as BaseMeta;
  const cfg = ck.config as LlamaConfig;
  const preset = MODEL_PRESETS[c.model.preset]!;
  const why: string[] = [];
  if (cfg.dim !== preset.dim || cfg.nLayers !== preset.nLayers || cfg.nHeads !== preset.nHeads || cfg.ffnDim !== preset.ffnDim) why.push(`its model is not the "${c.model.preset}" preset`);
  const legacy = !meta.market;
  if (legacy) {
    const defaultLexicon = configFingerprint({ ...c, market: { ...c.market, lexicon: null } }).lexicon.sha256;
    if (fp.lexicon.sha256 !== defaultLexicon) why.push(`it was pretrained on the default lexicon's market, this run's lexicon is ${fp.lexicon.name} (${fp.lexicon.file})`);
  } else if (meta.market!.fingerprint !== fp.sha256) why.push(`it was pretrained on market ${meta.market!.fingerprint?.slice(0, 12) ?? '(not generated)'}…, this run's market is ${fp.sha256.slice(0, 12)}… (${fp.lexicon.name}, ${fp.preset}, seed ${fp.seed})`);
  const tokHash = tokenizerHash(tokenizer);
  const baseTok = meta.tokenizer?.sha256 ?? (legacy ? tokenizerHash(DEFAULT_MODEL) : null);
  if (baseTok !== tokHash) why.push(`its tokenizer is ${baseTok?.slice(0, 12) ?? 'unknown'}…, this run's ${tokenizer} is ${tokHash.slice(0, 12)}…`);
  const want = pretrainSettings({ preset: c.model.preset, ...c.pretrain });
  const had: Record<string, unknown> = meta.pretrain ?? { ...want, steps: meta.steps, seed: meta.seed, seqLen: meta.seqLen, corpus: meta.corpus };
  const differ = Object.keys(want).filter((k) => canonicalJson(had[k]) !== canonicalJson(want[k]));
  if (differ.length) why.push(`its pretraining differs: ${differ.map((k) => `${k} ${JSON.stringify(had[k])} (config ${JSON.stringify(want[k])})`).join(', ')}`);
  return why.length ? why.join('; ') : null;
}

/** One run of the method: its folder, its config, and the timing of every step (timings.json). */
interface Run {
  c: MethodConfig;
  runDir: string;
  /** The folder of the market (data/), base model (base.ckpt) and RQA runs (rqa/, rqa-star/): the run folder, or a study's shared folder. */
  shared: string;
  data: string;
  base: string;
  /** The sentencepiece model the base is pretrained with (set by tokenizerStep). */
  tokenizer: string;
  /** The config's market (generate makes it; the tokenizer and base must fit it). */
  fingerprint: MarketFingerprint;
  quiet?: boolean;
  log: (s: string) => void;
  timed<T>(step: string, fn: () => Promise<T>): Promise<T>;
}

export interface RunOpts {
  quiet?: boolean;
  log?: (s: string) => void;
  /**
   * A folder whose market, base model and RQA runs this run uses (made there when missing), so that
   * runs with different fine-tuning seeds share them (csrm study); default the run folder.
   */
  shared?: string;
}

function openRun(c: MethodConfig, runDir: string, opts: RunOpts): Run {
  mkdirSync(runDir, { recursive: true });
  const timingsPath = join(runDir, 'timings.json');
  const timings: StageTiming[] = readJsonIf<StageTiming[]>(timingsPath) ?? [];
  // a rerun keeps the longer time: a stage found done takes no time and says nothing of its cost
  const timed = async <T>(stage: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await fn();
    const seconds = (performance.now() - t0) / 1000;
    const i = timings.findIndex((t) => t.stage === stage);
    if (i >= 0) timings[i] = { stage, seconds: Math.max(timings[i]!.seconds, seconds) };
    else timings.push({ stage, seconds });
    writeJson(timingsPath, timings);
    return r;
  };
  const shared = opts.shared ?? runDir;
  return {
    c, runDir, shared, data: join(shared, 'data'), base: join(shared, 'base.ckpt'), tokenizer: DEFAULT_MODEL, fingerprint: configFingerprint(c),
    quiet: opts.quiet, log: opts.log ?? ((s) => console.error(s)), timed,
  };
}

/** A run folder holds one run: what it already has must be what this config makes. */
const otherRun = (run: Run, what: string, why: string) =>
  new Error(`${run.shared}: ${what} ${why}; the config "${run.c.name}" asks for another. Use another --run folder, or remove ${what} (and what was made from it) to make it again`);

/**
 * The synthetic market of the config's lexicon, preset, seed and dev/test sizes; a market already
 * in the run folder must be that one (its fingerprint), or the run stops instead of scoring on it.
 */
function generateStep(run: Run): Promise<void> {
  const { c, fingerprint: fp } = run;
  const m = c.market;
  return run.timed('generate', async () => {
    if (existsSync(join(run.data, 'summary.json'))) {
      const had = readMarketFingerprint(run.data);
      if (had?.sha256 !== fp.sha256)
        throw otherRun(run, run.data, had ? `is market ${had.sha256.slice(0, 12)}… (${had.lexicon.name}, ${had.preset}, seed ${had.seed}, ${had.size.dev} dev / ${had.size.test} test)` : 'is a market without a fingerprint (generated before they were kept, or laid out by hand)');
      return;
    }
    writeMarket(generateMarket({ preset: m.preset, seed: m.seed, size: { dev: m.dev, test: m.test }, lexicon: m.lexicon ?? undefined }), run.data);
    run.log(`generate: market "${m.preset}" of lexicon ${fp.lexicon.name} (${m.dev} dev, ${m.test} test samples per market; fingerprint ${fp.sha256.slice(0, 12)}…) written to ${run.data}`);
  });
}

/**
 * The tokenizer: the config's when it names one, the committed one when it was made for this
 * market's lexicon, else one trained for it in <run>/tokenizer (csrm tokenizer; a study's shared folder).
 */
function tokenizerStep(run: Run): Promise<void> {
  const { c, fingerprint: fp } = run;
  return run.timed('tokenizer', async () => {
    const fits = (path: string) => tokenizerFits(readTokenizerRecord(path), fp);
    if (c.tokenizer) {
      const rec = readTokenizerRecord(c.tokenizer);
      if (rec && !tokenizerFits(rec, fp)) throw new Error(`tokenizer ${c.tokenizer} was trained for ${rec.lexicon ? `lexicon ${rec.lexicon.name} (${rec.lexicon.sha256.slice(0, 12)}…)` : `market ${rec.market?.fingerprint?.slice(0, 12)}…`}, this run's market is lexicon ${fp.lexicon.name} (${fp.lexicon.sha256.slice(0, 12)}…): train one for it with \`csrm tokenizer --lexicon ${fp.lexicon.file ?? 'FILE'} --out DIR\``);
      run.tokenizer = c.tokenizer;
      return;
    }
    const committed = committedTokenizerFor(fp);
    if (committed) {
      run.tokenizer = committed;
      return;
    }
    const own = join(run.shared, 'tokenizer', `${TOKENIZER_NAME}.model`);
    if (existsSync(own) && readTokenizerRecord(own)) {
      if (!fits(own)) throw otherRun(run, own, 'was trained for another lexicon');
      run.tokenizer = own;
      return;
    }
    run.log(`tokenizer: the committed tokenizer was not made for lexicon ${fp.lexicon.name}; training one (csrm tokenizer)`);
    run.tokenizer = (await trainTokenizer({ lexicon: fp.lexicon.file ?? undefined, data: run.data, out: join(run.shared, 'tokenizer'), log: run.log })).model;
  });
}

/** The base model: the committed checkpoint when it fits this market, tokenizer and pretraining config, else pretrained here from its seed. */
function baseModelStep(run: Run): Promise<void> {
  const { c, base } = run;
  return run.timed('base model', async () => {
    if (existsSync(base)) {
      const why = await baseMismatch(base, c, run.fingerprint, run.tokenizer);
      if (why) throw otherRun(run, base, `does not fit: ${why}`);
      return;
    }
    const committed = committedBase(c);
    const why = existsSync(committed) ? await baseMismatch(committed, c, run.fingerprint, run.tokenizer) : 'there is none';
    if (!why) {
      copyFileSync(committed, base);
      run.log(`base model: ${committed} (reproduce with \`${pretrainCommand(c)}\`)`);
      return;
    }
    run.log(`base model: not reusing ${committed} (${why}); pretraining one`);
    const p = c.pretrain;
    const r = await runPretrain({ data: run.data, out: base, preset: c.model.preset, steps: p.steps, batchSize: p.batchSize, seqLen: p.seqLen, lr: p.lr, seed: p.seed, corpus: p.corpus, tokenizer: run.tokenizer, quiet: run.quiet });
    run.log(`base model: pretrained ${p.steps} steps, final loss ${r.history.at(-1)?.loss?.toFixed(3)}`);
  });
}

/** Retrieval-based query augmentation (section 3.3): BM25 pseudo pairs → conversion ranker → distilled EBR (eq. 1) → rqa.jsonl. */
async function rqaStep(run: Run, kind: RqaKind): Promise<void> {
  const { runRqaStage, rqaConfig } = await import('./rqa-stage.ts');
  const star = kind === 'rqa-star';
  await run.timed(kind, async () => {
    const r = await runRqaStage({ data: run.data, base: run.base, out: join(run.shared, kind), star, rankerDir: join(run.shared, 'rqa', 'ranker'), maxLen: run.c.sft.maxLen, cfg: rqaConfig(run.c.rqa), quiet: run.quiet });
    run.log(`${star ? 'RQA*' : 'RQA'}: ${r.accuracy.map((a) => `${a.name} top-1 ${(100 * a.all.top1).toFixed(1)}%`).join(', ')}`);
  });
}

/** A self-distillation stage's soft labels: the predictions of the stage it learns from on its training records. */
async function softLabelStep(run: Run, s: StageSpec): Promise<void> {
  const from = s.softLabelsFrom!;
  const out = softLabelsPath(run.runDir, s);
  await run.timed(`label ${from}`, async () => {
    const tok = await loadBaseTokenizer(await readBase(run.base));
    const data = await loadMarketData(run.data);
    const recs = await withRqa(stageTrainRecords(data, 2, s.targetFraction, run.c.sft.seed, run.c.sft.translatedTwins), null);
    const base = await loadBase(run.base);
    const { model } = base;
    const adapters = join(run.runDir, from, 'best.ckpt');
    await loadAdapters(model, adapters, base);
    const r = await labelRecords(model, tok, recs, run.c.sft.maxLen, out, { quiet: run.quiet, model: await labelModel(run.base, adapters, run.c.sft.maxLen) });
    disposeLlama(model);
    run.log(`label: ${from} → ${out} (${r.labelled} new, ${r.samplesPerSec.toFixed(1)} samples/s)`);
  });
}

/** One fine-tuning stage of the table, with what it needs made first. */
async function fineTuneStep(run: Run, s: StageSpec): Promise<void> {
  if (s.rqa) await rqaStep(run, s.rqa);
  if (s.softLabelsFrom && !readJsonIf(join(run.runDir, s.name, 'result.json'))) await softLabelStep(run, s);
  await run.timed(s.name, async () => {
    const r = await runSftStage(stageRunOpts(s, run.c, { runDir: run.runDir, data: run.data, base: run.base, quiet: run.quiet, rqaRoot: run.shared }));
    run.log(`${s.name}: target test micro-F1 ${r.eval.target.microF1.toFixed(4)} (source ${r.eval.source.microF1.toFixed(4)}, best dev F1 ${r.train.bestDevF1.toFixed(4)})`);
  });
}

/** Cross-lingual transfer gap (eq. 6) of the Stage-1 models without and with MT. */
function transferGapStep(run: Run): Promise<void> {
  return run.timed('transfer gap', async () => {
    const out = join(run.runDir, 'transfer-gap.json');
    const info = await readBase(run.base);
    const hashes: Record<string, string> = { market: marketDataHash(run.data), base: info.digest };
    for (const name of TRANSFER_GAP_STAGES) hashes[name] = await checkpointDigest(join(run.runDir, name, 'best.ckpt'));
    const record = provenance(hashes, { maxLen: run.c.sft.maxLen });
    const done = readJsonIf<{ provenance?: ProvenanceRecord }>(out);
    if (done) return checkProvenance(out, done.provenance, record, `remove ${out} to measure it again`);
    const tok = await loadBaseTokenizer(info);
    const data = await loadMarketData(run.data);
    const res: Record<string, { gap: number; pairs: number } | ProvenanceRecord> = {};
    for (const name of TRANSFER_GAP_STAGES) {
      const base = await loadBase(run.base);
      await loadAdapters(base.model, join(run.runDir, name, 'best.ckpt'), base);
      res[name] = await measureTransferGap(base.model, data, tok, run.c.sft.maxLen);
      disposeLlama(base.model);
    }
    writeJson(out, { ...res, provenance: record });
    const [without, withMt] = TRANSFER_GAP_STAGES.map((n) => (res[n] as { gap: number }).gap.toFixed(4));
    run.log(`transfer gap (eq. 6): without MT ${without}, with MT ${withMt}`);
  });
}

/** Twin-tower distillation (section 3.5) from the best Stage-2 teacher → online/result.json. */
function onlineStep(run: Run, stages: readonly StageSpec[]): Promise<unknown> {
  const { c, runDir } = run;
  return run.timed('online', () =>
    runOnlineStage({ runDir, data: run.data, base: run.base, teacher: pickTeacher(runDir, teacherCandidates(stages)), marketPreset: c.market.preset, online: c.online, maxLen: c.sft.maxLen, quiet: run.quiet, log: run.log }),
  );
}

export async function runMethod(c: MethodConfig, runDir: string, opts: RunOpts = {}): Promise<void> {
  const run = openRun(c, runDir, opts);
  const gpu = await getGpu();
  writeJson(join(runDir, 'device.json'), { adapter: gpu.info.adapter, software: gpu.info.isSoftware });
  run.log(`CSRM method "${c.name}" in ${runDir} on ${gpu.info.adapter}`);
  await generateStep(run);
  await tokenizerStep(run);
  await baseModelStep(run);
  const stages = methodStages(c);
  for (const s of stages) await fineTuneStep(run, s);
  await transferGapStep(run);
  await onlineStep(run, stages);
  const files = await writeReport(runDir, c, { seeds: [runDir], shared: run.shared });
  run.log(`report: ${files.join(', ')}`);
}
