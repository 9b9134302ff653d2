// `csrm distill-online` (sections 3.5 and 6): the online twin-tower relevance models.
//  1. KD data: for the target market's logged queries, top M impressed products + top N retrieved
//     ones (kd-data.ts). The retriever is BM25 over the target catalogue (pipeline/rqa/bm25.ts)
//     behind the `EbrRetriever` type: the paper's EBR retriever would take its place unchanged.
//     Queries of the target TEST set are left out, so the ranking simulation runs on held-out queries.
//  2. The teacher (the run's best relevance LLM) labels every pair with ⟨p_irr, p_sub, p_exact⟩,
//     cached in online/kd-labels.jsonl (resumable, label.ts).
//  3. Students trained with eq. 4 against the teacher: EM on p_exact, defect on p_irr. Baseline:
//     the same architecture on the hard human labels of the target TRAIN records (EM: label = 2,
//     defect: label = 0), with the same loss (a 0/1 teacher makes eq. 4 plain BCE).
//  4. Table 3 (accuracy, F1 of defect and EM) for baseline, teacher and distilled, and the ranking
//     simulation (EM@1, Defect@5) on the target TEST records (clean labels).
// Every step's output is a file under ${run}/online; a rerun skips what exists.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { disposeLlama } from '../../models/llama.ts';
import { disposeTwinTower, initTwinTower, type TwinTower } from '../../models/twin-tower.ts';
import type { RelevanceRecord } from '../data/schema.ts';
import { readJsonIf, writeJson } from '../io/files.ts';
import { onlineConfig, type OnlineConfig } from '../online/config.ts';
import { embedCatalogue, writeEmbeddings } from '../online/embeddings-file.ts';
import { evaluateOnline, type OnlineEvaluation } from '../online/evaluate.ts';
import { impressedByQuery, KD_SIZES, sampleKdPairs, type EbrRetriever } from '../online/kd-data.ts';
import { kdRecords } from '../online/kd-records.ts';
import { isDefect, isExact, rankingMetrics, table3Metrics, type RankedCandidate } from '../online/metrics.ts';
import { trainTower, type KdExample, type TowerTrainResult } from '../online/train-tower.ts';
import { loadTwinTower, saveTwinTower, twinTowerModel } from '../online/twin-tower-model.ts';
import { buildBm25, search } from '../rqa/bm25.ts';
import { catalogueDocs } from '../rqa/catalogue-docs.ts';
import { loadTokenizer, type Tokenizer } from '../tokenizer/tokenizer.ts';
import { scoreSeqs } from '../train/score.ts';
import { encodeRelevance, type Soft } from './encode.ts';
import { checkLabelledBy, labelModel, labelRecords, readSoftLabels } from './label.ts';
import { loadMarketData, sampleKey } from './market-data.ts';
import { loadAdapters, loadBase } from './model-io.ts';

export interface OnlineStageOpts {
  runDir: string;
  data: string;
  base: string;
  /** Stage folder under runDir whose best.ckpt is the teacher (e.g. 'sd-1'). */
  teacher: string;
  marketPreset: 'tiny' | 'demo' | 'paper';
  online?: Partial<OnlineConfig>;
  /** Token budget of the teacher's prompts (the SFT maxLen). */
  maxLen: number;
  quiet?: boolean;
  log?: (s: string) => void;
}

export type OnlineTask = 'em-distilled' | 'defect-distilled' | 'em-baseline' | 'defect-baseline';

export interface OnlineStageResult {
  teacher: string;
  retriever: string;
  sizes: { M: number; N: number };
  queries: number;
  heldOutQueriesSkipped: number;
  pairs: { total: number; impressed: number; ebr: number };
  teacherMeans: { p_irr: number; p_sub: number; p_exact: number };
  baselineTrainPairs: number;
  config: OnlineConfig;
  train: Record<OnlineTask, TowerTrainResult>;
  testPairs: number;
  testQueries: number;
  table3: Record<'baseline' | 'teacher' | 'distilled', OnlineEvaluation['table3']>;
  ranking: Record<'baseline' | 'teacher' | 'distilled', OnlineEvaluation['ranking']>;
  files: { em: string; defect: string; emBaseline: string; defectBaseline: string; embeddings: string };
  seconds: { label: number; train: number; total: number };
}

/** BM25 over the catalogue's title + brand + category, with the `EbrRetriever` signature. */
export function bm25Retriever(catalogue: Parameters<typeof catalogueDocs>[0], k: number): EbrRetriever {
  const index = buildBm25(catalogueDocs(catalogue, 'title+brand+category'));
  return (q) => search(index, q, k).map((h) => h.id);
}

async function teacherScores(opts: OnlineStageOpts, tok: Tokenizer, recs: RelevanceRecord[], labelsFile: string, testFile: string, test: RelevanceRecord[]): Promise<{ kd: Map<string, Soft>; test: Soft[]; seconds: number }> {
  const t0 = performance.now();
  let testP = readJsonIf<Soft[]>(testFile);
  const adapters = join(opts.runDir, opts.teacher, 'best.ckpt');
  const teacher = await labelModel(opts.base, adapters, opts.maxLen);
  const kdDone = existsSync(labelsFile) && (await checkLabelledBy(labelsFile, teacher)).size >= new Set(recs.map(sampleKey)).size;
  if (!kdDone || !testP) {
    const { model } = await loadBase(opts.base);
    await loadAdapters(model, adapters);
    try {
      await labelRecords(model, tok, recs, opts.maxLen, labelsFile, { quiet: opts.quiet, model: teacher });
      if (!testP) {
        testP = await scoreSeqs(model, test.map((r) => encodeRelevance(tok, r, opts.maxLen)), tok.labelTokenIds, tok.pad, opts.maxLen);
        writeJson(testFile, testP);
      }
    } finally {
      disposeLlama(model);
    }
  }
  return { kd: await readSoftLabels(labelsFile), test: testP!, seconds: (performance.now() - t0) / 1000 };
}

/** Trains one tower unless its checkpoint exists; returns the model (caller disposes) and the training record. */
async function tower(path: string, task: OnlineTask, tok: Tokenizer, data: KdExample[], c: OnlineConfig, seed: number, quiet?: boolean): Promise<{ m: TwinTower; train: TowerTrainResult }> {
  const trainFile = `${path}.train.json`;
  const done = readJsonIf<TowerTrainResult>(trainFile);
  if (done && existsSync(path)) return { m: (await loadTwinTower(path)).model, train: done };
  const m = initTwinTower({ ...c.model, vocabSize: tok.vocabSize, normEps: 1e-5, ropeTheta: 10000 }, seed);
  const train = await trainTower(m, tok, data, { steps: c.steps, batchSize: c.batchSize, lr: c.lr, scale: c.scale, seed, label: task, quiet });
  await saveTwinTower(path, m, { scale: c.scale, task });
  writeJson(trainFile, train);
  return { m, train };
}

export async function runOnlineStage(opts: OnlineStageOpts): Promise<OnlineStageResult> {
  const dir = join(opts.runDir, 'online');
  const resultFile = join(dir, 'result.json');
  const done = readJsonIf<OnlineStageResult>(resultFile);
  if (done) return done;
  mkdirSync(dir, { recursive: true });
  const log = opts.log ?? ((s: string) => console.error(s));
  const t0 = performance.now();
  const c = onlineConfig(opts.marketPreset, opts.online);
  const sizes = KD_SIZES[c.kd];
  const tok = await loadTokenizer();
  const data = await loadMarketData(opts.data);
  const tgt = data.target;
  const catalogue = data.catalogue[tgt] ?? [];
  if (catalogue.length === 0) throw new Error(`${opts.data}: no catalogue for the target market ${tgt}`);
  const test = data.relevance[tgt]!.test;
  const language = test[0]?.language ?? catalogue[0]!.language;

  // 1. KD candidates for logged target queries that are not test queries (held out)
  const testQueries = new Set(test.map((r) => r.query));
  const logged = impressedByQuery(data.behaviour[tgt] ?? []);
  const kept = logged.filter((q) => !testQueries.has(q.query)).slice(0, c.maxQueries);
  if (kept.length === 0) throw new Error(`${opts.data}: no target-market (${tgt}) behaviour queries outside the test set to distil on`);
  const keptIds = new Set(kept.map((q) => q.query_id));
  const logs = (data.behaviour[tgt] ?? []).filter((r) => keptIds.has(r.query_id));
  const pairs = await sampleKdPairs(logs, bm25Retriever(catalogue, sizes.M + sizes.N), sizes);
  const recs = kdRecords(pairs, catalogue, language);
  log(`distill-online: ${kept.length} target queries (${logged.length - kept.length} skipped: test queries or over maxQueries), ${pairs.length} KD pairs (M=${sizes.M}, N=${sizes.N}; BM25 stands in for EBR)`);

  // 2. teacher soft labels (eq. 4's t) for the KD pairs, and the teacher's own test predictions
  const teach = await teacherScores(opts, tok, recs, join(dir, 'kd-labels.jsonl'), join(dir, 'teacher-test.json'), test);
  const soft = recs.map((r, i) => {
    const p = teach.kd.get(sampleKey(r));
    if (!p) throw new Error(`${dir}/kd-labels.jsonl: no teacher label for KD pair ${i} (${sampleKey(r)})`);
    return p;
  });

  // 3. students (eq. 4 on teacher probabilities) and baselines (eq. 4 on 0/1 human labels)
  const tTrain = performance.now();
  const kd = (which: 0 | 2): KdExample[] => recs.map((r, i) => ({ query: r.query, item: r.product_title, t: soft[i]![which] }));
  const hardRecs = data.relevance[tgt]!.train;
  const hard = (pos: (l: 0 | 1 | 2) => boolean): KdExample[] => hardRecs.map((r) => ({ query: r.query, item: r.product_title, t: pos(r.label) ? 1 : 0 }));
  const files = { em: join(dir, 'em.ckpt'), defect: join(dir, 'defect.ckpt'), emBaseline: join(dir, 'em-baseline.ckpt'), defectBaseline: join(dir, 'defect-baseline.ckpt'), embeddings: join(dir, 'embeddings.bin') };
  const em = await tower(files.em, 'em-distilled', tok, kd(2), c, c.seed, opts.quiet);
  const defect = await tower(files.defect, 'defect-distilled', tok, kd(0), c, c.seed + 1, opts.quiet);
  const emB = await tower(files.emBaseline, 'em-baseline', tok, hard(isExact), c, c.seed, opts.quiet);
  const defectB = await tower(files.defectBaseline, 'defect-baseline', tok, hard(isDefect), c, c.seed + 1, opts.quiet);
  const trainSecs = (performance.now() - tTrain) / 1000;

  // 4. Table 3 and the ranking simulation on the clean target test set
  const distilledModels = { em: twinTowerModel(em.m, tok, c.scale), defect: twinTowerModel(defect.m, tok, c.scale) };
  const distilled = await evaluateOnline(distilledModels, test);
  const baseline = await evaluateOnline({ em: twinTowerModel(emB.m, tok, c.scale), defect: twinTowerModel(defectB.m, tok, c.scale) }, test);
  const groups = new Map<string, RankedCandidate[]>();
  test.forEach((r, i) => {
    const key = `${r.market}\u0000${r.query_id || `text:${r.query}`}`;
    groups.set(key, [...(groups.get(key) ?? []), { product_id: r.product_id, label: r.label, em: teach.test[i]![2], defect: teach.test[i]![0] }]);
  });
  const teacherT3 = table3Metrics(test.map((r) => r.label), teach.test.map((p) => p[2]), teach.test.map((p) => p[0]));
  const teacherRank = rankingMetrics([...groups.values()]);

  // the product embeddings `csrm serve` loads next to twin:online/em.ckpt and twin:online/defect.ckpt
  writeEmbeddings(files.embeddings, await embedCatalogue(distilledModels, catalogue.map((r) => ({ id: r.product_id, text: r.product_title }))));
  for (const t of [em, defect, emB, defectB]) disposeTwinTower(t.m);

  const mean = (k: 0 | 1 | 2) => soft.reduce((s, p) => s + p[k], 0) / Math.max(1, soft.length);
  const result: OnlineStageResult = {
    teacher: opts.teacher,
    retriever: 'BM25 over title+brand+category (stand-in for the EBR retriever)',
    sizes,
    queries: kept.length,
    heldOutQueriesSkipped: logged.length - kept.length,
    pairs: { total: pairs.length, impressed: pairs.filter((p) => p.source === 'impressed').length, ebr: pairs.filter((p) => p.source === 'ebr').length },
    teacherMeans: { p_irr: mean(0), p_sub: mean(1), p_exact: mean(2) },
    baselineTrainPairs: hardRecs.length,
    config: c,
    train: { 'em-distilled': em.train, 'defect-distilled': defect.train, 'em-baseline': emB.train, 'defect-baseline': defectB.train },
    testPairs: test.length,
    testQueries: distilled.ranking.queries,
    table3: { baseline: baseline.table3, teacher: teacherT3, distilled: distilled.table3 },
    ranking: { baseline: baseline.ranking, teacher: teacherRank, distilled: distilled.ranking },
    files,
    seconds: { label: teach.seconds, train: trainSecs, total: (performance.now() - t0) / 1000 },
  };
  writeJson(resultFile, result);
  log(
    `distill-online: EM F1 baseline ${baseline.table3.exactMatch.f1.toFixed(4)} / teacher ${teacherT3.exactMatch.f1.toFixed(4)} / distilled ${distilled.table3.exactMatch.f1.toFixed(4)}; ` +
      `defect F1 ${baseline.table3.defect.f1.toFixed(4)} / ${teacherT3.defect.f1.toFixed(4)} / ${distilled.table3.defect.f1.toFixed(4)}; ` +
      `EM@1 ${baseline.ranking.em1.toFixed(4)} → ${distilled.ranking.em1.toFixed(4)}, Defect@5 ${baseline.ranking.defect5.toFixed(4)} → ${distilled.ranking.defect5.toFixed(4)}`,
  );
  return result;
}

/** The teacher: of the given stages that finished, the one with the best dev micro-F1 (later wins ties). */
export function pickTeacher(runDir: string, stages: readonly string[]): string {
  let best: { name: string; f1: number } | null = null;
  for (const name of stages) {
    const r = readJsonIf<{ train: { bestDevF1: number } }>(join(runDir, name, 'result.json'));
    if (r && (!best || r.train.bestDevF1 >= best.f1)) best = { name, f1: r.train.bestDevF1 };
  }
  if (!best) throw new Error(`${runDir}: none of ${stages.join(', ')} has a result.json to take the teacher from`);
  return best.name;
}
