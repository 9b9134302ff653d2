// `csrm <command>`: the method's stages as commands. Every stage reads and writes files under one
// run folder, so any stage can be rerun alone; `csrm demo` chains them on the embedded market, and
// `csrm sft --name` runs one fine-tuning stage of the method's stage table (`csrm stages` lists it).
import { join } from 'node:path';
import { initEngine, shutdownGpu } from '../../engine/index.ts';
import { parseFlags, req } from './args.ts';
import { runGenerate } from './generate.ts';
import { runServe } from './serve.ts';
import { loadConfig, type MethodConfig } from '../stages/config.ts';
import { runMethod } from '../stages/method.ts';
import { runPretrain } from '../stages/pretrain.ts';
import { runSftStage, stageTrainRecords, withRqa, type SftStageOpts } from '../stages/sft-stage.ts';
import { methodStages, stageRunOpts, stageTrains } from '../stages/stage-table.ts';
import { runOnlineStage } from '../stages/online-stage.ts';
import { labelModel, labelRecords } from '../stages/label.ts';
import { loadMarketData } from '../stages/market-data.ts';
import { loadAdapters, loadBase } from '../stages/model-io.ts';
import { evaluateModel } from '../stages/evaluate.ts';
import { loadTokenizer } from '../tokenizer/tokenizer.ts';
import { writeReport } from '../report/report.ts';
import { writeJson } from '../io/files.ts';
import { mdTable } from '../report/svg.ts';
import { disposeLlama } from '../../models/llama.ts';

const USAGE = `usage: csrm <command> [options]
  generate  --preset tiny|demo|paper --out DIR [--seed N] [--lexicon FILE] [--format jsonl|csv|parquet]
  pretrain  --data DIR --out FILE [--config tiny|demo|gpu|FILE.json] [--steps N]
  import-hf --from HF_DIR --out FILE [--allow-non-finite]   (a Llama-style config.json + safetensors as the base model)
  export-hf --base FILE --out HF_DIR
  stages    [--config PRESET]             (the method's fine-tuning stages: the names --name takes)
  sft       --run DIR --name NAME [--data DIR] [--base FILE] [--config PRESET] [--steps N]
            a NAME from \`csrm stages\` takes its stage, data, RQA, soft labels and starting model from the table;
            any other NAME needs --stage 1|2 [--mt] [--rqa DIR] [--soft-labels FILE] [--init STAGE] [--alpha A] [--target-fraction F]
  label     --run DIR --from NAME --data DIR --base FILE --out FILE [--target-fraction F] [--config PRESET]
  eval      --run DIR --name NAME --data DIR --base FILE [--config PRESET]
  rqa       --data DIR --base FILE --out DIR [--star] [--ranker DIR] [--config PRESET] [--run DIR]
  report    --run DIR [--config PRESET]
  demo      [--config tiny|demo|gpu|FILE.json] [--run DIR]
  serve     --embeddings FILE [...]   (see pipeline/cli/serve.ts)
  distill-online --run DIR --data DIR --base FILE --teacher STAGE [--config PRESET]`;

type Flags = Record<string, string | number | boolean | undefined>;

/** One sub-command: its flags, whether it needs the GPU engine, and what it does. */
interface Command {
  flags: Parameters<typeof parseFlags>[2];
  engine: boolean;
  run(f: Flags, cmd: string): Promise<number>;
}

const config = (f: Flags): MethodConfig => loadConfig(String(f.config ?? 'demo'));
const need = <T>(cmd: string, f: Flags, name: string): T => req(cmd, f[name] as T | undefined, name, USAGE);

async function pretrainCmd(f: Flags, cmd: string): Promise<number> {
  const c = config(f);
  const p = c.pretrain;
  await runPretrain({ data: need(cmd, f, 'data'), out: need(cmd, f, 'out'), preset: c.model.preset, steps: (f.steps as number) ?? p.steps, batchSize: p.batchSize, seqLen: p.seqLen, lr: p.lr, seed: p.seed, corpus: p.corpus });
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
  const runDir = need<string>(cmd, f, 'run');
  const name = need<string>(cmd, f, 'name');
  const run = { runDir, data: (f.data as string) ?? join(runDir, 'data'), base: (f.base as string) ?? join(runDir, 'base.ckpt') };
  const spec = methodStages(c).find((s) => s.name === name);
  const o: SftStageOpts = spec
    ? stageRunOpts(spec, c, run)
    : { ...run, name, stage: need(cmd, f, 'stage'), mt: false, rqa: null, softLabels: null, init: null, alpha: 1, targetFraction: 1, train: c.sft };
  if (f.stage !== undefined) o.stage = f.stage as 1 | 2;
  if (o.stage !== 1 && o.stage !== 2) throw new Error(`csrm sft: --stage must be 1 or 2\n${USAGE}`);
  if (f.mt) o.mt = true;
  if (f.rqa !== undefined) o.rqa = f.rqa as string;
  if (f['soft-labels'] !== undefined) o.softLabels = f['soft-labels'] as string;
  if (f.init !== undefined) o.init = f.init as string;
  o.alpha = (f.alpha as number) ?? (o.softLabels ? c.sd.alpha : 1);
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
  const c = config(f);
  const tok = await loadTokenizer();
  const data = await loadMarketData(need(cmd, f, 'data'));
  const recs = await withRqa(stageTrainRecords(data, 2, (f['target-fraction'] as number) ?? 1, c.sft.seed), null);
  const base = need<string>(cmd, f, 'base');
  const adapters = join(need(cmd, f, 'run'), need(cmd, f, 'from'), 'best.ckpt');
  const { model } = await loadBase(base);
  await loadAdapters(model, adapters);
  const r = await labelRecords(model, tok, recs, c.sft.maxLen, need(cmd, f, 'out'), { model: await labelModel(base, adapters, c.sft.maxLen) });
  disposeLlama(model);
  console.log(`labelled ${r.labelled} samples (${r.resumedFrom} already there), ${r.samplesPerSec.toFixed(1)} samples/s`);
  return 0;
}

async function evalCmd(f: Flags, cmd: string): Promise<number> {
  const c = config(f);
  const tok = await loadTokenizer();
  const data = await loadMarketData(need(cmd, f, 'data'));
  const { model } = await loadBase(need(cmd, f, 'base'));
  const dir = join(need(cmd, f, 'run'), need(cmd, f, 'name'));
  await loadAdapters(model, join(dir, 'best.ckpt'));
  const ev = await evaluateModel(model, data, tok, c.sft.maxLen, null);
  writeJson(join(dir, 'eval.json'), ev);
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
  const r = await runRqaStage({ data: inRun('data', 'data'), base: inRun('base', 'base.ckpt'), out, star: f.star === true, rankerDir: f.ranker as string | undefined, maxLen: c.sft.maxLen, cfg: rqaConfig(c.rqa) });
  console.log(`${out}/rqa.jsonl: ${r.records} records (${r.withTitles} with titles); ` + r.accuracy.map((a) => `${a.name} top-1 ${(100 * a.all.top1).toFixed(1)}% (alias ${(100 * a.alias.top1).toFixed(1)}%)`).join(', '));
  return 0;
}

async function reportCmd(f: Flags, cmd: string): Promise<number> {
  console.log((await writeReport(need(cmd, f, 'run'), config(f))).join('\n'));
  return 0;
}

async function distillOnlineCmd(f: Flags, cmd: string): Promise<number> {
  const c = config(f);
  const r = await runOnlineStage({ runDir: need(cmd, f, 'run'), data: need(cmd, f, 'data'), base: need(cmd, f, 'base'), teacher: need(cmd, f, 'teacher'), marketPreset: c.market.preset, online: c.online, maxLen: c.sft.maxLen });
  console.log(`online: EM F1 ${r.table3.distilled.exactMatch.f1.toFixed(4)}, defect F1 ${r.table3.distilled.defect.f1.toFixed(4)}, EM@1 ${r.ranking.distilled.em1.toFixed(4)}, Defect@5 ${r.ranking.distilled.defect5.toFixed(4)} → ${r.files.em}, ${r.files.defect}, ${r.files.embeddings}`);
  return 0;
}

async function demoCmd(f: Flags): Promise<number> {
  const c = loadConfig(String(f.config ?? f.preset ?? 'demo'));
  await runMethod(c, (f.run as string) ?? join('runs', c.name));
  return 0;
}

const COMMANDS: Record<string, Command> = {
  pretrain: { engine: true, flags: { data: 'string', out: 'string', config: 'string', steps: 'number' }, run: pretrainCmd },
  'import-hf': { engine: true, flags: { from: 'string', out: 'string', 'allow-non-finite': 'boolean' }, run: importHfCmd },
  'export-hf': { engine: true, flags: { base: 'string', out: 'string' }, run: exportHfCmd },
  stages: { engine: false, flags: { config: 'string' }, run: stagesCmd },
  sft: { engine: true, flags: { run: 'string', name: 'string', data: 'string', base: 'string', stage: 'number', mt: 'boolean', rqa: 'string', 'soft-labels': 'string', alpha: 'number', 'target-fraction': 'number', config: 'string', steps: 'number', init: 'string' }, run: sftCmd },
  label: { engine: true, flags: { run: 'string', from: 'string', data: 'string', base: 'string', out: 'string', 'target-fraction': 'number', config: 'string' }, run: labelCmd },
  eval: { engine: true, flags: { run: 'string', name: 'string', data: 'string', base: 'string', config: 'string' }, run: evalCmd },
  rqa: { engine: true, flags: { run: 'string', data: 'string', base: 'string', out: 'string', star: 'boolean', ranker: 'string', config: 'string' }, run: rqaCmd },
  report: { engine: false, flags: { run: 'string', config: 'string' }, run: reportCmd },
  'distill-online': { engine: true, flags: { run: 'string', data: 'string', base: 'string', teacher: 'string', config: 'string' }, run: distillOnlineCmd },
  demo: { engine: true, flags: { config: 'string', run: 'string', preset: 'string' }, run: demoCmd },
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
