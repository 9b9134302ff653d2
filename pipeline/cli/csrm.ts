// `csrm <command>`: the method's stages as commands. Every stage reads and writes files under one
// run folder, so any stage can be rerun alone; `csrm demo` chains them on the embedded market, and
// `csrm sft --name` runs one fine-tuning stage of the method's stage table (`csrm stages` lists it).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { initEngine, shutdownGpu } from '../../engine/index.ts';
import { parseFlags, req } from './args.ts';
import { runGenerate } from './generate.ts';
import { runServe } from './serve.ts';
import { resolve } from 'node:path';
import { checkFlag, loadConfig, type MethodConfig } from '../stages/config.ts';
import { configFingerprint, runMethod } from '../stages/method.ts';
import { committedTokenizerFor } from '../tokenizer/tokenizer-record.ts';
import { generateMarket } from '../data/market/generate.ts';
import { writeMarket } from '../data/market/write.ts';
import { readStudy, runStudy, studySeedFolders } from '../stages/study.ts';
import { runPretrain } from '../stages/pretrain.ts';
import { runSftStage, stageTrainRecords, withRqa, type SftStageOpts } from '../stages/sft-stage.ts';
import { methodStages, stageRunOpts, stageTrains } from '../stages/stage-table.ts';
import { runOnlineStage } from '../stages/online-stage.ts';
import { labelModel, labelRecords } from '../stages/label.ts';
import { loadMarketData } from '../stages/market-data.ts';
import { loadAdapters, loadBase, loadBaseTokenizer, readBase } from '../stages/model-io.ts';
import { evaluateModel } from '../stages/evaluate.ts';
import { marketDataHash, provenance, type ProvenanceRecord } from '../stages/provenance.ts';
import { checkpointDigest, readCheckpointMeta } from '../../engine/index.ts';
import { writeReport } from '../report/report.ts';
import { writeJson } from '../io/files.ts';
import { mdTable } from '../report/svg.ts';
import { disposeLlama } from '../../models/llama.ts';
import { parseQueueUrl } from '../queue/queue-url.ts';
import type { ShardQueue } from '../stages/label-sharded.ts';

const USAGE = `usage: csrm <command> [options]
  generate  --preset tiny|demo|paper --out DIR [--seed N] [--lexicon FILE] [--format jsonl|csv|parquet]
  tokenizer --data DIR | --lexicon FILE  --out DIR [--vocab-size N]   (a sentencepiece model for a market; needs spm_train)
  pretrain  [--data DIR] --out FILE [--config tiny|demo|gpu|FILE.json] [--lexicon FILE] [--steps N] [--tokenizer FILE.model]
  import-hf --from HF_DIR --out FILE [--allow-non-finite]   (a Llama-style config.json + safetensors as the base model)
  export-hf --base FILE --out HF_DIR
  stages    [--config PRESET]             (the method's fine-tuning stages: the names --name takes)
  sft       --run DIR --name NAME [--data DIR] [--base FILE] [--config PRESET] [--steps N]
            a NAME from \`csrm stages\` takes its stage, data, RQA, soft labels and starting model from the table;
            any other NAME needs --stage 1|2 [--mt] [--rqa DIR] [--soft-labels FILE] [--init STAGE] [--alpha A] [--target-fraction F]
  label     --run DIR --from NAME --data DIR --base FILE --out FILE [--target-fraction F] [--config PRESET] [--chunk 256]
            [--queue redis://HOST:PORT [--shard-size 1024] [--attempts 3]]   (scored by \`csrm worker\` processes)
  worker    --queue redis://HOST:PORT [--adapter NAME] [--name NAME] [--lock-ms 30000]   (shards of label, rqa, distill-online)
  eval      --run DIR --name NAME --data DIR --base FILE [--config PRESET]
  rqa       --data DIR --base FILE --out DIR [--star] [--ranker DIR] [--config PRESET] [--run DIR] [--queue redis://HOST:PORT [--shard-size N]]
  report    --run DIR [--config PRESET]   (a study folder reports its seeds together, with the config it recorded)
  demo      [--config tiny|demo|gpu|FILE.json] [--run DIR] [--lexicon FILE] [--tokenizer FILE.model] [--seeds N]   (--seeds: a study, as below)
  study     [--config tiny|demo|gpu|FILE.json] --seeds N [--run DIR] [--lexicon FILE] [--tokenizer FILE.model]
            the fine-tuning stages with N seeds on one market and base model, each seed in DIR/seed-K,
            resumable; the report gives mean ± sd over seeds and pooled paired intervals (default DIR runs/NAME-study)
  Commands that take --base use the tokenizer the base was pretrained with (--tokenizer FILE.model when it moved).
  serve     --embeddings FILE [...]   (see pipeline/cli/serve.ts)
  distill-online --run DIR --data DIR --base FILE --teacher STAGE [--config PRESET] [--queue redis://HOST:PORT [--shard-size N]]`;

type Flags = Record<string, string | number | boolean | undefined>;

/** One sub-command: its flags, whether it needs the GPU engine, and what it does. */
interface Command {
  flags: Parameters<typeof parseFlags>[2];
  engine: boolean;
  run(f: Flags, cmd: string): Promise<number>;
}

/** The config of --config (default demo), with --lexicon / --tokenizer (paths from the working folder) in place of its own. */
const config = (f: Flags): MethodConfig => loadConfig(String(f.config ?? f.preset ?? 'demo'), {
  ...(f.lexicon !== undefined ? { lexicon: resolve(String(f.lexicon)) } : {}),
  ...(f.tokenizer !== undefined ? { tokenizer: resolve(String(f.tokenizer)) } : {}),
});
/** --tokenizer as an override of the base's own (checked against the base's record). */
const tokenizerFlag = (f: Flags) => (f.tokenizer === undefined ? null : resolve(String(f.tokenizer)));
const need = <T>(cmd: string, f: Flags, name: string): T => req(cmd, f[name] as T | undefined, name, USAGE);
/** --queue (and its shard options): the pass goes to `csrm worker` processes. */
const shardQueue = (f: Flags): ShardQueue | undefined =>
  f.queue === undefined ? undefined : { target: parseQueueUrl(f.queue as string), shardSize: f['shard-size'] as number | undefined, attempts: f.attempts as number | undefined };
const QUEUE_FLAGS = { queue: 'string', 'shard-size': 'number', attempts: 'number' } as const;

async function pretrainCmd(f: Flags, cmd: string): Promise<number> {
  if (f.steps !== undefined) checkFlag(`csrm ${cmd}`, 'steps', f.steps);
  const c = config(f);
  const p = c.pretrain;
  const out = need<string>(cmd, f, 'out');
  // without --data the config's own market is generated (lexicon, preset, seed, dev/test sizes): the
  // committed base is reproduced by `csrm pretrain --config NAME --out FILE` alone
  let data = f.data as string | undefined;
  if (data === undefined) {
    data = `${out}.market`;
    if (!existsSync(join(data, 'summary.json'))) {
      const m = c.market;
      writeMarket(generateMarket({ preset: m.preset, seed: m.seed, size: { dev: m.dev, test: m.test }, lexicon: m.lexicon ?? undefined }), data);
    }
    console.log(`market of config ${c.name}: ${data} (fingerprint ${configFingerprint(c).sha256.slice(0, 12)}…)`);
  }
  // without --tokenizer: the committed tokenizer made for the config's lexicon (as the demo picks it)
  const fp = configFingerprint(c);
  const tokenizer = c.tokenizer ?? committedTokenizerFor(fp);
  if (!tokenizer) throw new Error(`csrm ${cmd}: no committed tokenizer was made for lexicon ${fp.lexicon.name} (${fp.lexicon.file}); train one with \`csrm tokenizer --lexicon ${fp.lexicon.file} --out DIR\` and pass --tokenizer DIR/csrm-spm.model`);
  await runPretrain({ data, out, preset: c.model.preset, steps: (f.steps as number) ?? p.steps, batchSize: p.batchSize, seqLen: p.seqLen, lr: p.lr, seed: p.seed, corpus: p.corpus, tokenizer });
  return 0;
}

async function tokenizerCmd(f: Flags, cmd: string): Promise<number> {
  if (f['vocab-size'] !== undefined) checkFlag(`csrm ${cmd}`, 'vocab-size', f['vocab-size'], { what: 'pieces', check: [(v) => Number.isInteger(v) && (v as number) >= 64, 'must be an integer ≥ 64'] });
  const { trainTokenizer } = await import('../stages/tokenizer-stage.ts');
  const r = await trainTokenizer({ data: f.data as string | undefined, lexicon: f.lexicon as string | undefined, out: need(cmd, f, 'out'), vocabSize: f['vocab-size'] as number | undefined });
  console.log(`${r.model}: ${r.record.vocabSize} pieces from ${r.lines} corpus lines (${r.record.recipe}); pretrain with --tokenizer ${r.model}`);
  return 0;
}

/** A Hugging Face Llama-style folder becomes the run's base model (instead of `csrm pretrain`). */
async function importHfCmd(f: Flags, cmd: string): Promise<number> {
  const { importHf } = await import('../../models/hf.ts');
  const { saveBase } = await import('../stages/model-io.ts');
  const m = await importHf(need(cmd, f, 'from'), { allowNonFinite: f['allow-non-finite'] === true });
  await saveBase(need(cmd, f, 'out'), m, { importedFrom: f.from });
  console.log(`imported ${f.from} (${m.config.nLayers} layers, dim ${m.config.dim}, vocab ${m.config.vocabSize}) → ${f.out}`);
  disposeLlama(m);
  return 0;
}

async function exportHfCmd(f: Flags, cmd: string): Promise<number> {
  const { exportHf } = await import('../../models/hf.ts');
  const { model } = await loadBase(need(cmd, f, 'base'));
  await exportHf(model, need(cmd, f, 'out'));
  disposeLlama(model);
  return 0;
}

async function stagesCmd(f: Flags): Promise<number> {
  const c = config(f);
  console.log(mdTable(['Name', 'Stage', 'Setting', 'Starts from', 'Trains'], methodStages(c).map((s) => [s.name, `Stage ${s.stage}`, s.setting, s.startsFrom ?? 'base model', stageTrains(s, c.sft)])));
  return 0;
}

/** runSftStage's options: the table's stage when --name is one, overridden by whatever flags are given. */
function sftOpts(f: Flags, cmd: string, c: MethodConfig): SftStageOpts {
  for (const k of ['stage', 'alpha', 'target-fraction', 'steps']) if (f[k] !== undefined) checkFlag(`csrm ${cmd}`, k, f[k]);
  const runDir = need<string>(cmd, f, 'run');
  const name = need<string>(cmd, f, 'name');
  const run = { runDir, data: (f.data as string) ?? join(runDir, 'data'), base: (f.base as string) ?? join(runDir, 'base.ckpt'), tokenizer: tokenizerFlag(f) };
  const spec = methodStages(c).find((s) => s.name === name);
  const o: SftStageOpts = spec
    ? stageRunOpts(spec, c, run)
    : { ...run, name, stage: need(cmd, f, 'stage'), mt: false, rqa: null, softLabels: null, init: null, alpha: 1, targetFraction: 1, train: c.sft };
  if (f.stage !== undefined) o.stage = f.stage as 1 | 2;
  if (f.mt) o.mt = true;
  if (f.rqa !== undefined) o.rqa = f.rqa as string;
  if (f['soft-labels'] !== undefined) {
    o.softLabels = f['soft-labels'] as string;
    o.softLabelsFrom = null;
  }
  if (f.init !== undefined) o.init = f.init as string;
  o.alpha = (f.alpha as number) ?? (o.softLabels ? c.sd.alpha : 1);
  if (f.alpha !== undefined && !o.softLabels) throw new Error(`csrm ${cmd}: --alpha ${f.alpha} without soft labels: α weighs the human label against soft labels (eq. 2); give --soft-labels FILE or a self-distillation stage`);
  if (o.softLabels && !(o.alpha < 1)) throw new Error(`csrm ${cmd}: --alpha ${o.alpha} with soft labels must be < 1 (at α = 1 eq. 2 gives the soft labels no weight, and the setting would still say SD)`);
  if (f['target-fraction'] !== undefined) o.targetFraction = f['target-fraction'] as number;
  if (f.steps !== undefined) o.train = { ...c.sft, steps: f.steps as number, warmSteps: f.steps as number };
  return o;
}

async function sftCmd(f: Flags, cmd: string): Promise<number> {
  const r = await runSftStage(sftOpts(f, cmd, config(f)));
  console.log(`${r.name}: target test micro-F1 ${r.eval.target.microF1.toFixed(4)}`);
  return 0;
}

async function labelCmd(f: Flags, cmd: string): Promise<number> {
  if (f['target-fraction'] !== undefined) checkFlag(`csrm ${cmd}`, 'target-fraction', f['target-fraction']);
  const c = config(f);
  const base = need<string>(cmd, f, 'base');
  const tok = await loadBaseTokenizer(await readBase(base, tokenizerFlag(f)));
  const data = await loadMarketData(need(cmd, f, 'data'));
  const recs = await withRqa(stageTrainRecords(data, 2, (f['target-fraction'] as number) ?? 1, c.sft.seed, c.sft.translatedTwins), null);
  const adapters = join(need(cmd, f, 'run'), need(cmd, f, 'from'), 'best.ckpt');
  // with a queue this process only coordinates: the workers have the GPUs
  const queue = shardQueue(f);
  if (!queue) await initEngine();
  const b = queue ? null : await loadBase(base);
  if (b) await loadAdapters(b.model, adapters, b);
  const r = await labelRecords(b?.model ?? null, tok, recs, c.sft.maxLen, need(cmd, f, 'out'), { model: await labelModel(base, adapters, c.sft.maxLen), chunk: f.chunk as number | undefined, queue });
  if (b) disposeLlama(b.model);
  console.log(`labelled ${r.labelled} samples (${r.resumedFrom} already there), ${r.samplesPerSec.toFixed(1)} samples/s`);
  return 0;
}

/**
 * `csrm eval`: a stage's best checkpoint on the clean test sets → <stage>/eval.json, with what it
 * evaluated (market, base, tokenizer, model). The checkpoint must have been trained on this base and
 * this market: its F1 on another would be written as the stage's own.
 */
async function evalCmd(f: Flags, cmd: string): Promise<number> {
  const c = config(f);
  const dataDir = need<string>(cmd, f, 'data');
  const info = await readBase(need(cmd, f, 'base'), tokenizerFlag(f));
  const tok = await loadBaseTokenizer(info);
  const data = await loadMarketData(dataDir);
  const dir = join(need(cmd, f, 'run'), need(cmd, f, 'name'));
  const ckpt = join(dir, 'best.ckpt');
  const market = marketDataHash(dataDir);
  const trained = existsSync(ckpt) ? ((await readCheckpointMeta(ckpt)).meta as { provenance?: ProvenanceRecord } | undefined)?.provenance : undefined;
  if (trained?.hashes.market && trained.hashes.market !== market)
    throw new Error(`${ckpt} was trained on market data ${trained.hashes.market.slice(0, 12)}…${trained.paths?.market ? ` (${trained.paths.market})` : ''}, --data ${dataDir} is ${market.slice(0, 12)}…: its eval.json would describe another market. Evaluate it on the market it was trained on`);
  const b = await loadBase(info.path);
  const { model } = b;
  await loadAdapters(model, ckpt, b);
  const ev = await evaluateModel(model, data, tok, c.sft.maxLen, null);
  const made = provenance({ market, tokenizer: info.tokenizerHash, base: info.digest, model: await checkpointDigest(ckpt) }, { maxLen: c.sft.maxLen }, { market: dataDir, base: info.path, model: ckpt });
  writeJson(join(dir, 'eval.json'), { ...ev, provenance: made });
  console.log(`target test micro-F1 ${ev.target.microF1.toFixed(4)}; source ${ev.source.microF1.toFixed(4)}; alias ${ev.targetAlias ? ev.targetAlias.microF1.toFixed(4) : 'n/a'}`);
  disposeLlama(model);
  return 0;
}

async function rqaCmd(f: Flags, cmd: string): Promise<number> {
  const c = config(f);
  const { runRqaStage, rqaConfig } = await import('../stages/rqa-stage.ts');
  const run = f.run as string | undefined;
  const inRun = (name: string, file: string) => (f[name] as string) ?? (run ? join(run, file) : need<string>(cmd, f, name));
  const out = inRun('out', f.star ? 'rqa-star' : 'rqa');
  const r = await runRqaStage({ data: inRun('data', 'data'), base: inRun('base', 'base.ckpt'), out, star: f.star === true, rankerDir: f.ranker as string | undefined, reuseRanker: f.ranker !== undefined, maxLen: c.sft.maxLen, cfg: rqaConfig(c.rqa), tokenizer: tokenizerFlag(f), queue: shardQueue(f) });
  console.log(`${out}/rqa.jsonl: ${r.records} records (${r.withTitles} with titles); ` + r.accuracy.map((a) => `${a.name} top-1 ${(100 * a.all.top1).toFixed(1)}% (alias ${(100 * a.alias.top1).toFixed(1)}%)`).join(', '));
  return 0;
}

async function reportCmd(f: Flags, cmd: string): Promise<number> {
  const run = need<string>(cmd, f, 'run');
  const study = readStudy(run);
  const files = study ? await writeReport(run, study.config, { seeds: studySeedFolders(run, study.seeds), shared: run }) : await writeReport(run, config(f));
  console.log(files.join('\n'));
  return 0;
}

async function distillOnlineCmd(f: Flags, cmd: string): Promise<number> {
  const c = config(f);
  const r = await runOnlineStage({ runDir: need(cmd, f, 'run'), data: need(cmd, f, 'data'), base: need(cmd, f, 'base'), teacher: need(cmd, f, 'teacher'), marketPreset: c.market.preset, online: c.online, maxLen: c.sft.maxLen, tokenizer: tokenizerFlag(f), queue: shardQueue(f) });
  console.log(`online: EM F1 ${r.table3.distilled.exactMatch.f1.toFixed(4)}, defect F1 ${r.table3.distilled.defect.f1.toFixed(4)}, EM@1 ${r.ranking.distilled.em1.toFixed(4)}, Defect@5 ${r.ranking.distilled.defect5.toFixed(4)} → ${r.files.em}, ${r.files.defect}, ${r.files.embeddings}`);
  return 0;
}

async function workerCmd(f: Flags, cmd: string): Promise<number> {
  const { runWorker } = await import('../queue/worker.ts');
  return runWorker({ queue: parseQueueUrl(need(cmd, f, 'queue')), adapter: f.adapter as string | undefined, name: f.name as string | undefined, lockMs: f['lock-ms'] as number | undefined });
}

async function demoCmd(f: Flags, cmd: string): Promise<number> {
  if (f.seeds !== undefined) return studyCmd(f, cmd);
  const c = config(f);
  await runMethod(c, (f.run as string) ?? join('runs', c.name));
  return 0;
}

async function studyCmd(f: Flags, cmd: string): Promise<number> {
  if (f.seeds !== undefined) checkFlag(`csrm ${cmd}`, 'seeds', f.seeds, { what: 'fine-tuning seeds', check: [(v) => Number.isInteger(v) && (v as number) >= 1, 'must be a positive integer'] });
  const c = config(f);
  await runStudy(c, (f.run as string) ?? join('runs', `${c.name}-study`), need<number>(cmd, f, 'seeds'));
  return 0;
}

const COMMANDS: Record<string, Command> = {
  tokenizer: { engine: false, flags: { data: 'string', lexicon: 'string', out: 'string', 'vocab-size': 'number' }, run: tokenizerCmd },
  pretrain: { engine: true, flags: { data: 'string', out: 'string', config: 'string', steps: 'number', tokenizer: 'string', lexicon: 'string' }, run: pretrainCmd },
  'import-hf': { engine: true, flags: { from: 'string', out: 'string', 'allow-non-finite': 'boolean' }, run: importHfCmd },
  'export-hf': { engine: true, flags: { base: 'string', out: 'string' }, run: exportHfCmd },
  stages: { engine: false, flags: { config: 'string' }, run: stagesCmd },
  sft: { engine: true, flags: { run: 'string', name: 'string', data: 'string', base: 'string', stage: 'number', mt: 'boolean', rqa: 'string', 'soft-labels': 'string', alpha: 'number', 'target-fraction': 'number', config: 'string', steps: 'number', init: 'string', tokenizer: 'string' }, run: sftCmd },
  label: { engine: false, flags: { run: 'string', from: 'string', data: 'string', base: 'string', out: 'string', 'target-fraction': 'number', config: 'string', tokenizer: 'string', chunk: 'number', ...QUEUE_FLAGS }, run: labelCmd },
  worker: { engine: false, flags: { queue: 'string', adapter: 'string', name: 'string', 'lock-ms': 'number' }, run: workerCmd },
  eval: { engine: true, flags: { run: 'string', name: 'string', data: 'string', base: 'string', config: 'string', tokenizer: 'string' }, run: evalCmd },
  rqa: { engine: true, flags: { run: 'string', data: 'string', base: 'string', out: 'string', star: 'boolean', ranker: 'string', config: 'string', tokenizer: 'string', ...QUEUE_FLAGS }, run: rqaCmd },
  report: { engine: false, flags: { run: 'string', config: 'string' }, run: reportCmd },
  'distill-online': { engine: true, flags: { run: 'string', data: 'string', base: 'string', teacher: 'string', config: 'string', tokenizer: 'string', ...QUEUE_FLAGS }, run: distillOnlineCmd },
  demo: { engine: true, flags: { config: 'string', run: 'string', preset: 'string', seeds: 'number', lexicon: 'string', tokenizer: 'string' }, run: demoCmd },
  study: { engine: true, flags: { config: 'string', run: 'string', seeds: 'number', lexicon: 'string', tokenizer: 'string' }, run: studyCmd },
};

export async function csrm(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === 'generate') {
    runGenerate(rest);
    return 0;
  }
  if (cmd === 'serve') return runServe(rest);
  const c = cmd === undefined ? undefined : COMMANDS[cmd];
  if (!c) {
    console.error(cmd ? `csrm: unknown command "${cmd}"\n${USAGE}` : USAGE);
    return 2;
  }
  const f = parseFlags(cmd!, rest, c.flags, USAGE);
  if (c.engine) await initEngine();
  return c.run(f, cmd!);
}

/** How a failed command ends: one line saying why (the stack only with CSRM_DEBUG=1), exit 1. */
export function failureMessage(e: unknown): string {
  const m = e instanceof Error ? (process.env.CSRM_DEBUG === '1' ? (e.stack ?? e.message) : e.message) : String(e);
  return `error: ${m}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // An error escaping every await (a callback, a forgotten promise) ends the same way.
  const die = (e: unknown) => {
    console.error(failureMessage(e));
    process.exit(1);
  };
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
  let code = 1;
  try {
    code = await csrm(process.argv.slice(2));
  } catch (e) {
    console.error(failureMessage(e));
    code = 1;
  } finally {
    await shutdownGpu();
  }
  process.exit(code);
}
