// `csrm <command>`: the method's stages as commands. Every stage reads and writes files under one
// run folder, so any stage can be rerun alone; `csrm demo` chains them on the embedded market.
import { join } from 'node:path';
import { initEngine, shutdownGpu } from '../../engine/index.ts';
import { parseFlags, req } from './args.ts';
import { runGenerate } from './generate.ts';
import { runServe } from './serve.ts';
import { loadConfig } from '../stages/config.ts';
import { runMethod } from '../stages/method.ts';
import { runPretrain } from '../stages/pretrain.ts';
import { runSftStage } from '../stages/sft-stage.ts';
import { runOnlineStage } from '../stages/online-stage.ts';
import { labelModel, labelRecords } from '../stages/label.ts';
import { loadMarketData } from '../stages/market-data.ts';
import { loadAdapters, loadBase } from '../stages/model-io.ts';
import { evaluateModel } from '../stages/evaluate.ts';
import { stageTrainRecords, withRqa } from '../stages/sft-stage.ts';
import { loadTokenizer } from '../tokenizer/tokenizer.ts';
import { writeReport } from '../report/report.ts';
import { writeJson } from '../io/files.ts';
import { disposeLlama } from '../../models/llama.ts';

const USAGE = `usage: csrm <command> [options]
  generate  --preset tiny|demo|paper --out DIR [--seed N] [--lexicon FILE] [--format jsonl|csv|parquet]
  pretrain  --data DIR --out FILE [--config tiny|demo|gpu|FILE.json] [--steps N]
  import-hf --from HF_DIR --out FILE [--allow-non-finite]   (a Llama-style config.json + safetensors as the base model)
  export-hf --base FILE --out HF_DIR
  sft       --run DIR --name NAME --data DIR --base FILE --stage 1|2 [--mt] [--rqa DIR] [--soft-labels FILE] [--init STAGE]
            [--alpha A] [--target-fraction F] [--config PRESET] [--steps N]
  label     --run DIR --from NAME --data DIR --base FILE --out FILE [--target-fraction F] [--config PRESET]
  eval      --run DIR --name NAME --data DIR --base FILE [--config PRESET]
  rqa       --data DIR --base FILE --out DIR [--star] [--ranker DIR] [--config PRESET] [--run DIR]
  report    --run DIR [--config PRESET]
  demo      [--config tiny|demo|gpu|FILE.json] [--run DIR]
  serve     --embeddings FILE [...]   (see pipeline/cli/serve.ts)
  distill-online --run DIR --data DIR --base FILE --teacher STAGE [--config PRESET]`;

export async function csrm(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const flags = (spec: Parameters<typeof parseFlags>[2]) => parseFlags(cmd!, rest, spec, USAGE);
  if (['pretrain', 'import-hf', 'export-hf', 'sft', 'label', 'eval', 'demo', 'rqa', 'distill-online'].includes(cmd ?? '')) await initEngine();
  switch (cmd) {
    case 'generate':
      runGenerate(rest);
      return 0;
    case 'serve':
      return runServe(rest);
    case 'pretrain': {
      const f = flags({ data: 'string', out: 'string', config: 'string', steps: 'number' });
      const c = loadConfig(String(f.config ?? 'demo'));
      const p = c.pretrain;
      await runPretrain({ data: req(cmd, f.data as string, 'data', USAGE), out: req(cmd, f.out as string, 'out', USAGE), preset: c.model.preset, steps: (f.steps as number) ?? p.steps, batchSize: p.batchSize, seqLen: p.seqLen, lr: p.lr, seed: p.seed, corpus: p.corpus });
      return 0;
    }
    case 'import-hf': {
      // a Hugging Face Llama-style folder becomes the run's base model (instead of `csrm pretrain`)
      const f = flags({ from: 'string', out: 'string', 'allow-non-finite': 'boolean' });
      const { importHf } = await import('../../models/hf.ts');
      const { saveBase } = await import('../stages/model-io.ts');
      const m = await importHf(req(cmd, f.from as string, 'from', USAGE), { allowNonFinite: f['allow-non-finite'] === true });
      await saveBase(req(cmd, f.out as string, 'out', USAGE), m, { importedFrom: f.from });
      console.log(`imported ${f.from} (${m.config.nLayers} layers, dim ${m.config.dim}, vocab ${m.config.vocabSize}) → ${f.out}`);
      disposeLlama(m);
      return 0;
    }
    case 'export-hf': {
      const f = flags({ base: 'string', out: 'string' });
      const { exportHf } = await import('../../models/hf.ts');
      const { model } = await loadBase(req(cmd, f.base as string, 'base', USAGE));
      await exportHf(model, req(cmd, f.out as string, 'out', USAGE));
      disposeLlama(model);
      return 0;
    }
    case 'sft': {
      const f = flags({ run: 'string', name: 'string', data: 'string', base: 'string', stage: 'number', mt: 'boolean', rqa: 'string', 'soft-labels': 'string', alpha: 'number', 'target-fraction': 'number', config: 'string', steps: 'number', init: 'string' });
      const c = loadConfig(String(f.config ?? 'demo'));
      const stage = req(cmd, f.stage as number, 'stage', USAGE);
      const init = (f.init as string) ?? null;
      if (stage !== 1 && stage !== 2) throw new Error(`csrm sft: --stage must be 1 or 2\n${USAGE}`);
      const r = await runSftStage({
        runDir: req(cmd, f.run as string, 'run', USAGE), name: req(cmd, f.name as string, 'name', USAGE), data: req(cmd, f.data as string, 'data', USAGE), base: req(cmd, f.base as string, 'base', USAGE),
        stage, mt: f.mt === true, rqa: (f.rqa as string) ?? null, softLabels: (f['soft-labels'] as string) ?? null, alpha: (f.alpha as number) ?? (f['soft-labels'] ? c.sd.alpha : 1),
        targetFraction: (f['target-fraction'] as number) ?? 1, init,
        train: { ...c.sft, steps: (f.steps as number) ?? (init ? c.sft.warmSteps : undefined) ?? c.sft.steps },
      });
      console.log(`${r.name}: target test micro-F1 ${r.eval.target.microF1.toFixed(4)}`);
      return 0;
    }
    case 'label': {
      const f = flags({ run: 'string', from: 'string', data: 'string', base: 'string', out: 'string', 'target-fraction': 'number', config: 'string' });
      const c = loadConfig(String(f.config ?? 'demo'));
      const tok = await loadTokenizer();
      const data = await loadMarketData(req(cmd, f.data as string, 'data', USAGE));
      const recs = await withRqa(stageTrainRecords(data, 2, (f['target-fraction'] as number) ?? 1, c.sft.seed), null);
      const base = req(cmd, f.base as string, 'base', USAGE);
      const adapters = join(req(cmd, f.run as string, 'run', USAGE), req(cmd, f.from as string, 'from', USAGE), 'best.ckpt');
      const { model } = await loadBase(base);
      await loadAdapters(model, adapters);
      const r = await labelRecords(model, tok, recs, c.sft.maxLen, req(cmd, f.out as string, 'out', USAGE), { model: await labelModel(base, adapters, c.sft.maxLen) });
      disposeLlama(model);
      console.log(`labelled ${r.labelled} samples (${r.resumedFrom} already there), ${r.samplesPerSec.toFixed(1)} samples/s`);
      return 0;
    }
    case 'eval': {
      const f = flags({ run: 'string', name: 'string', data: 'string', base: 'string', config: 'string' });
      const c = loadConfig(String(f.config ?? 'demo'));
      const tok = await loadTokenizer();
      const data = await loadMarketData(req(cmd, f.data as string, 'data', USAGE));
      const { model } = await loadBase(req(cmd, f.base as string, 'base', USAGE));
      const dir = join(req(cmd, f.run as string, 'run', USAGE), req(cmd, f.name as string, 'name', USAGE));
      await loadAdapters(model, join(dir, 'best.ckpt'));
      const ev = await evaluateModel(model, data, tok, c.sft.maxLen, null);
      writeJson(join(dir, 'eval.json'), ev);
      console.log(`target test micro-F1 ${ev.target.microF1.toFixed(4)}; source ${ev.source.microF1.toFixed(4)}; alias ${ev.targetAlias ? ev.targetAlias.microF1.toFixed(4) : 'n/a'}`);
      disposeLlama(model);
      return 0;
    }
    case 'rqa': {
      const f = flags({ run: 'string', data: 'string', base: 'string', out: 'string', star: 'boolean', ranker: 'string', config: 'string' });
      const c = loadConfig(String(f.config ?? 'demo'));
      const { runRqaStage, rqaConfig } = await import('../stages/rqa-stage.ts');
      const run = f.run as string | undefined;
      const out = (f.out as string) ?? (run ? join(run, f.star ? 'rqa-star' : 'rqa') : req(cmd, f.out as string, 'out', USAGE));
      const r = await runRqaStage({
        data: (f.data as string) ?? (run ? join(run, 'data') : req(cmd, f.data as string, 'data', USAGE)),
        base: (f.base as string) ?? (run ? join(run, 'base.ckpt') : req(cmd, f.base as string, 'base', USAGE)),
        out, star: f.star === true, rankerDir: f.ranker as string | undefined, maxLen: c.sft.maxLen, cfg: rqaConfig(c.rqa),
      });
      console.log(`${out}/rqa.jsonl: ${r.records} records (${r.withTitles} with titles); ` + r.accuracy.map((a) => `${a.name} top-1 ${(100 * a.all.top1).toFixed(1)}% (alias ${(100 * a.alias.top1).toFixed(1)}%)`).join(', '));
      return 0;
    }
    case 'report': {
      const f = flags({ run: 'string', config: 'string' });
      const files = await writeReport(req(cmd, f.run as string, 'run', USAGE), loadConfig(String(f.config ?? 'demo')));
      console.log(files.join('\n'));
      return 0;
    }
    case 'distill-online': {
      const f = flags({ run: 'string', data: 'string', base: 'string', teacher: 'string', config: 'string' });
      const c = loadConfig(String(f.config ?? 'demo'));
      await initEngine();
      const r = await runOnlineStage({
        runDir: req(cmd, f.run as string, 'run', USAGE), data: req(cmd, f.data as string, 'data', USAGE), base: req(cmd, f.base as string, 'base', USAGE),
        teacher: req(cmd, f.teacher as string, 'teacher', USAGE), marketPreset: c.market.preset, online: c.online, maxLen: c.sft.maxLen,
      });
      console.log(`online: EM F1 ${r.table3.distilled.exactMatch.f1.toFixed(4)}, defect F1 ${r.table3.distilled.defect.f1.toFixed(4)}, EM@1 ${r.ranking.distilled.em1.toFixed(4)}, Defect@5 ${r.ranking.distilled.defect5.toFixed(4)} → ${r.files.em}, ${r.files.defect}, ${r.files.embeddings}`);
      return 0;
    }
    case 'demo': {
      const f = flags({ config: 'string', run: 'string', preset: 'string' });
      const c = loadConfig(String(f.config ?? f.preset ?? 'demo'));
      await runMethod(c, (f.run as string) ?? join('runs', c.name));
      return 0;
    }
    default:
      console.error(cmd ? `csrm: unknown command "${cmd}"\n${USAGE}` : USAGE);
      return 2;
  }
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
