// Fault injection, provenance between stages (issue 15, cases 2 and 5): a stage's checkpoint is
// refused on another base model (eval, continuing it), a finished stage is not reused with other
// settings or another base, an unfinished one does not resume with other settings, and soft labels
// or RQA titles made by another model are refused — each naming both hashes and the command that
// rebuilds it, and leaving what exists untouched.
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkpointDigest } from '../../engine/index.ts';
import { makeConfig } from '../../models/llama-config.ts';
import { disposeLlama, initLlama } from '../../models/llama.ts';
import { csrm } from '../../pipeline/cli/csrm.ts';
import { embedCatalogue, writeEmbeddings } from '../../pipeline/online/embeddings-file.ts';
import { createHashedTower } from '../../pipeline/online/hashed-tower.ts';
import { startServer } from '../../pipeline/online/serve.ts';
import { generateMarket } from '../../pipeline/data/market/generate.ts';
import { writeMarket } from '../../pipeline/data/market/write.ts';
import { loadConfig, type SftSettings } from '../../pipeline/stages/config.ts';
import { saveBase } from '../../pipeline/stages/model-io.ts';
import { fileSha256, marketDataHash } from '../../pipeline/stages/provenance.ts';
import { runSftStage, type SftStageOpts, type SftStageResult } from '../../pipeline/stages/sft-stage.ts';

const dir = mkdtempSync(join(tmpdir(), 'csrm-provenance-'));
const run = join(dir, 'run');
const data = join(run, 'data');
const baseA = join(run, 'base.ckpt');
const baseB = join(dir, 'other-base.ckpt');
const train: SftSettings = { ...loadConfig('tiny').sft, steps: 2, warmSteps: 2, evalEvery: 2, batchSize: 4, groupBatches: 1 };
const stage1: SftStageOpts = { runDir: run, name: 'stage1-sft', data, base: baseA, stage: 1, mt: false, rqa: null, softLabels: null, alpha: 1, targetFraction: 1, train, quiet: true };
let first: SftStageResult;

beforeAll(async () => {
  writeMarket(generateMarket({ preset: 'tiny', seed: 4 }), data);
  copyFileSync(join(import.meta.dirname, '../../pipeline/base/demo-tiny.ckpt'), baseA);
  const m = initLlama(makeConfig('tiny', 3000, { maxSeqLen: 160 }), 9);
  await saveBase(baseB, m);
  disposeLlama(m);
  first = await runSftStage(stage1);
}, 300_000);

const short = async (f: string) => (await checkpointDigest(f)).slice(0, 12);

describe('a stage checkpoint belongs to the base it was trained on', () => {
  it('records the hashes of what it was made from', async () => {
    const h = first.provenance.hashes;
    expect(h.base).toBe(await checkpointDigest(baseA));
    expect(h.market).toBe(marketDataHash(data));
    expect(h.parent).toBe('none');
    expect(first.model).toBe(await checkpointDigest(join(run, 'stage1-sft', 'best.ckpt')));
  });

  it('csrm eval against another base is refused naming both hashes and the rebuild command; eval.json is not written', async () => {
    const err = await csrm(['eval', '--run', run, '--name', 'stage1-sft', '--data', data, '--base', baseB, '--config', 'tiny']).catch((e: Error) => e);
    const msg = String(err);
    expect(msg).toContain(`${join(run, 'stage1-sft', 'best.ckpt')} was trained on base model sha256 ${await short(baseA)}…`);
    expect(msg).toContain(`not on ${baseB} (sha256 ${await short(baseB)}…)`);
    expect(msg).toContain(`csrm sft --run ${run} --name stage1-sft --base ${baseB}`);
    expect(existsSync(join(run, 'stage1-sft', 'eval.json'))).toBe(false);
  });

  it('csrm eval on its own base writes eval.json with what it evaluated', async () => {
    expect(await csrm(['eval', '--run', run, '--name', 'stage1-sft', '--data', data, '--base', baseA, '--config', 'tiny'])).toBe(0);
    const ev = JSON.parse(readFileSync(join(run, 'stage1-sft', 'eval.json'), 'utf8'));
    expect(ev.target.microF1).toBe(first.eval.target.microF1);
    expect(ev.provenance.hashes).toMatchObject({ base: await checkpointDigest(baseA), model: first.model, market: marketDataHash(data) });
  });

  it('a stage continuing it on another base is refused', async () => {
    const err = await runSftStage({ ...stage1, name: 'stage2', stage: 2, init: 'stage1-sft', base: baseB }).catch((e: Error) => e);
    expect(String(err)).toMatch(/stage1-sft\/best\.ckpt was trained on base model sha256 .* not on .*other-base\.ckpt/);
    expect(existsSync(join(run, 'stage2', 'result.json'))).toBe(false);
  });
});

describe('a finished stage is reused only with the same inputs and settings', () => {
  it('the same stage again is reused as it is', async () => {
    expect(await runSftStage(stage1)).toEqual(first);
  });

  it('other steps over the finished stage are refused, saying what changed and how to retrain', async () => {
    const before = readFileSync(join(run, 'stage1-sft', 'result.json'));
    const err = await runSftStage({ ...stage1, train: { ...train, steps: 3 } }).catch((e: Error) => e);
    expect(String(err)).toContain(`${join(run, 'stage1-sft')}/result.json was made from other inputs than this run's`);
    expect(String(err)).toContain('train.steps 2 → 3');
    expect(String(err)).toContain(`remove ${join(run, 'stage1-sft')} and run \`csrm sft --run ${run} --name stage1-sft\``);
    expect(readFileSync(join(run, 'stage1-sft', 'result.json')).equals(before)).toBe(true);
  });

  it('csrm sft --steps over the finished stage is refused the same way', async () => {
    await expect(csrm(['sft', '--run', run, '--name', 'stage1-sft', '--steps', '60', '--config', 'tiny'])).rejects.toThrow(/train\.steps 120 → 60|train\.steps 2 → 60/);
  });

  it('another base under the finished stage is refused', async () => {
    const [a, b] = [await short(baseA), await short(baseB)];
    await expect(runSftStage({ ...stage1, base: baseB })).rejects.toThrow(`base ${a}… was recorded, ${b}… now`);
  });

  it('a changed market under the finished stage is refused', async () => {
    const other = join(dir, 'other-data');
    writeMarket(generateMarket({ preset: 'tiny', seed: 5 }), other);
    await expect(runSftStage({ ...stage1, data: other })).rejects.toThrow(/result\.json was made from other inputs than this run's: market /);
  });

  it('an unfinished stage does not resume with other settings', async () => {
    const name = 'unfinished';
    cpSync(join(run, 'stage1-sft'), join(run, name), { recursive: true });
    rmSync(join(run, name, 'result.json'));
    const err = await runSftStage({ ...stage1, name, train: { ...train, lr: train.lr / 2 } }).catch((e: Error) => e);
    expect(String(err)).toContain(`${join(run, name, 'last.ckpt')} (an unfinished run of ${name}) was made from other inputs`);
    expect(String(err)).toContain(`remove ${join(run, name)} to train it afresh`);
  });
});

describe('soft labels and RQA titles come from this run', () => {
  it('soft labels written by another model than the stage they must come from are refused', async () => {
    const sd = join(run, 'sd-x', 'soft-labels.jsonl');
    mkdirSync(join(run, 'sd-x'), { recursive: true });
    const other = { path: join(dir, 'someone-else.ckpt'), sha256: 'ab'.repeat(32) };
    writeFileSync(sd, JSON.stringify({ csrm_soft_labels: 1, model: { base: { path: baseA, sha256: await checkpointDigest(baseA) }, adapters: other, maxLen: train.maxLen } }) + '\n');
    const err = await runSftStage({ ...stage1, name: 'sd-x', stage: 2, init: 'stage1-sft', softLabels: sd, softLabelsFrom: 'stage1-sft', alpha: 0.5 }).catch((e: Error) => e);
    expect(String(err)).toContain(`${sd} was labelled by ${other.path} (sha256 abababababab…), but the stage it must come from is now ${join(run, 'stage1-sft', 'best.ckpt')} (sha256 ${first.model.slice(0, 12)}…)`);
    expect(String(err)).toContain(`csrm label --run ${run} --from stage1-sft`);
  });

  it('RQA titles retrieved with another base are refused', async () => {
    const rqa = join(run, 'rqa');
    mkdirSync(rqa, { recursive: true });
    writeFileSync(join(rqa, 'rqa.jsonl'), '');
    writeFileSync(join(rqa, 'result.json'), JSON.stringify({ provenance: { hashes: { market: marketDataHash(data), base: await checkpointDigest(baseB) } }, output: fileSha256(join(rqa, 'rqa.jsonl')) }));
    const err = await runSftStage({ ...stage1, name: 'with-rqa', rqa }).catch((e: Error) => e);
    expect(String(err)).toContain(`${join(rqa, 'rqa.jsonl')} was retrieved for another run: base model ${(await checkpointDigest(baseB)).slice(0, 12)}… there, ${(await checkpointDigest(baseA)).slice(0, 12)}… here`);
    expect(String(err)).toContain(`remove ${rqa} and run \`csrm rqa --run ${run}\``);
  });
});

describe('served embeddings come from the served towers', () => {
  it('embeddings computed by other towers are refused at start', async () => {
    const tower = (id: string, seed: number) => ({ ...createHashedTower({ dim: 16, seed }), id });
    const items = ['garden hose', 'aquarium filter'].map((text, i) => ({ id: `p${i}`, text }));
    const file = join(dir, 'embeddings.bin');
    writeEmbeddings(file, await embedCatalogue({ em: tower('e'.repeat(64), 1), defect: tower('d'.repeat(64), 2) }, items));
    await expect(startServer({ models: { em: tower('f'.repeat(64), 1), defect: tower('d'.repeat(64), 2) }, embeddingsFile: file, port: 0, log: () => {} }))
      .rejects.toThrow('embeddings were computed by another em tower (sha256 eeeeeeeeeeee…) than the served one (ffffffffffff…); recompute them with --catalogue');
  });
});
