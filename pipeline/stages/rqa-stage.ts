// `csrm rqa`: retrieval-based query augmentation (section 3.3) end to end.
//   1. BM25 over the target catalogue gives pseudo query-product pairs for the target queries;
//   2. the conversion ranker (LLM + LoRA, trained on source behaviour) scores them: CVR soft labels;
//   3. the EBR bi-encoder is distilled from them with eq. 1 (plus the source market's clicked pairs
//      with their observed conversion rate, so it can also retrieve for source records); RQA* adds
//      the target market's own sparse behaviour the same way;
//   4. kNN over each market's catalogue fills rqa.jsonl for every relevance record of both markets
//      (the judged product and its title excluded, features.ts), and retrieval accuracy (section
//      5.2) of BM25 / EBR on the target queries goes to retrieval-accuracy.json.
//      The catalogue embeddings are saved as catalogue-<market>.emb, and with `rqa.index: "hnsw"`
//      retrieval goes through an HNSW index saved beside them (catalogue-<market>.hnsw); with a
//      queue, `csrm worker` processes compute the embeddings (the same bytes).
// Work is kept in `out`: result.json ends the stage (a rerun skips it), ranker/ resumes, ebr.ckpt is reused.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointDigest, loadCheckpoint, loadTensorsInto, read, saveCheckpoint, tensor } from '../../engine/index.ts';
import { biEncoderTensors, disposeBiEncoder, encodeAllHost, initBiEncoder, type BiEncoder } from '../../models/bi-encoder.ts';
import { disposeLlama } from '../../models/llama.ts';
import type { BehaviourRecord, RelevanceRecord } from '../data/schema.ts';
import { readJsonIf, writeJson } from '../io/files.ts';
import { fingerprint, toDigits } from '../eval/sample-predictions.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import { formatAccuracy, queryHits, retrievalAccuracy, type RetrievalAccuracy, type Retrieved } from '../rqa/accuracy.ts';
import { buildBm25, searchBatch } from '../rqa/bm25.ts';
import { catalogueDocs } from '../rqa/catalogue-docs.ts';
import { predictCvr, trainRanker } from '../rqa/conversion-ranker.ts';
import { trainEbr, type EbrPair } from '../rqa/ebr-train.ts';
import { withRqa, type RetrieveIds } from '../rqa/features.ts';
import { catalogueBlocks, knnSearch } from '../rqa/knn.ts';
import { catalogueEmbeddings, writeCatalogueEmbeddings } from '../rqa/catalogue-embeddings.ts';
import { embedSharded } from '../rqa/embed-sharded.ts';
import { buildHnsw, HNSW_DEFAULTS, loadHnsw, saveHnsw, searchHnsw, type HnswParams } from '../rqa/hnsw-index.ts';
import type { ShardQueue } from './label-sharded.ts';
import { marketTruth, readProductFacts } from '../rqa/market-truth.ts';
import { pseudoPairs } from '../rqa/pseudo-pairs.ts';
import { loadMarketData, sampleKey, type MarketData } from './market-data.ts';
import { loadBase, loadBaseTokenizer, readBase } from './model-io.ts';
import { checkProvenance, fileSha256, marketDataHash, provenance, type ProvenanceRecord } from './provenance.ts';

export interface RqaConfig {
  k: number; // titles per record (Table 1's RQA feature)
  pseudoK: number; // BM25 pseudo pairs per target query
  accuracyK: number; // the k of any-of-top-k in section 5.2
  ranker: { steps: number; batchSize: number; lr: number; negativesPerPositive: number };
  ebr: { steps: number; batchSize: number; negatives: number; dim: number; lr: number; temperature: number; mseWeight: number };
  seed: number;
  /** Catalogue retrieval: exact GPU search, or an approximate HNSW index (large catalogues). */
  index: 'exact' | 'hnsw';
  hnsw: HnswParams;
}

export const RQA_DEFAULTS: RqaConfig = {
  k: 3, pseudoK: 5, accuracyK: 3,
  ranker: { steps: 200, batchSize: 16, lr: 0.003, negativesPerPositive: 2 },
  ebr: { steps: 300, batchSize: 64, negatives: 64, dim: 64, lr: 0.01, temperature: 0.1, mseWeight: 1 },
  seed: 13,
  index: 'exact',
  hnsw: HNSW_DEFAULTS,
};

/** The defaults overlaid with a config's optional `rqa` section (old configs have none). */
export function rqaConfig(over?: Partial<RqaConfig>): RqaConfig {
  const c = { ...RQA_DEFAULTS, ...over, ranker: { ...RQA_DEFAULTS.ranker, ...over?.ranker }, ebr: { ...RQA_DEFAULTS.ebr, ...over?.ebr }, hnsw: { ...RQA_DEFAULTS.hnsw, ...over?.hnsw } };
  if (c.index !== 'exact' && c.index !== 'hnsw') throw new Error(`config rqa.index "${String(c.index)}" is not "exact" or "hnsw"`);
  for (const k of ['M', 'efConstruction', 'efSearch'] as const) if (!(Number.isInteger(c.hnsw[k]) && c.hnsw[k] >= 2)) throw new Error(`config rqa.hnsw.${k} ${c.hnsw[k]} must be a whole number ≥ 2`);
  return c;
}

export interface RqaStageOpts {
  data: string;
  base: string;
  out: string;
  /** RQA*: the EBR also learns from the target market's behaviour logs. */
  star: boolean;
  /** Where the conversion ranker's adapters live (RQA* reuses RQA's); default `<out>/ranker`. */
  rankerDir?: string;
  /** The ranker in rankerDir must be there, finished (`csrm rqa --ranker DIR`): it is reused, never trained. */
  reuseRanker?: boolean;
  /** The base's tokenizer given explicitly (it must be the one the base records). */
  tokenizer?: string | null;
  maxLen: number;
  cfg: RqaConfig;
  quiet?: boolean;
  /** Catalogue encode by `csrm worker` processes. */
  queue?: ShardQueue;
}

export interface RqaAccuracy {
  name: string; // BM25, EBR or EBR*
  all: RetrievalAccuracy;
  alias: RetrievalAccuracy;
  /** Per target query (in the order whose ids `fingerprint` hashes), one digit each: right (1) or not, for paired comparisons. */
  perQuery: { n: number; fingerprint: string; top1: string; anyOfK: string };
}

export interface RqaStageResult {
  star: boolean;
  pseudoPairs: number;
  meanPseudoCvr: number;
  ranker: { examples: number; positives: number; seconds: number };
  ebr: { pairs: number; sourcePairs: number; targetBehaviourPairs: number; firstLoss: number; finalLoss: number; seconds: number; pairsPerSec: number };
  records: number;
  withTitles: number;
  accuracy: RqaAccuracy[];
  truth: string;
  seconds: number;
  /** What the titles were retrieved with (provenance.ts), and rqa.jsonl's hash. */
  provenance: ProvenanceRecord;
  output: string;
}

/** Observed conversion rate of clicked pairs, smoothed towards ½ so one click is not a certainty. */
export function observedCvr(b: BehaviourRecord): number {
  return (b.purchases + 0.5) / (b.clicks + 1);
}

function allRecords(d: MarketData, market: string): RelevanceRecord[] {
  const r = d.relevance[market]!;
  return [...r.train, ...r.dev, ...r.test];
}

/** Distinct queries of a market's relevance records, with their intent. */
function marketQueries(recs: readonly RelevanceRecord[]): { query_id: string; query: string; intent: string }[] {
  const m = new Map<string, { query_id: string; query: string; intent: string }>();
  for (const r of recs) if (!m.has(r.query_id)) m.set(r.query_id, { query_id: r.query_id, query: r.query, intent: r.intent });
  return [...m.values()];
}

function nonEmpty(tok: Tokenizer, text: string): number[] {
  const ids = tok.encode(text);
  return ids.length > 0 ? ids : [tok.eos];
}

/** EBR retrieval over one market's catalogue: product ids per query, best first (exact, or by an HNSW index). */
async function ebrRetriever(enc: BiEncoder, tok: Tokenizer, catIds: readonly string[], catEmb: Float32Array, hnsw?: Parameters<typeof searchHnsw>[0]): Promise<RetrieveIds> {
  const D = enc.config.dim;
  return async (queries, n) => {
    const qEmb = await encodeAllHost(enc, 'query', queries.map((q) => nonEmpty(tok, q)));
    if (hnsw) return searchHnsw(hnsw, qEmb, Math.min(n, catIds.length)).map((h) => h.map((x) => catIds[x.index]!));
    const qt = tensor(qEmb, [queries.length, D]);
    const ct = catalogueBlocks(catEmb, D);
    const hits = await knnSearch(qt, ct, Math.min(n, catIds.length));
    qt.dispose();
    for (const b of ct) b.dispose();
    return hits.map((h) => h.map((x) => catIds[x.index]!));
  };
}

function accuracyOf(name: string, queries: ReturnType<typeof marketQueries>, lists: string[][], truth: ReturnType<typeof marketTruth>, k: number): RqaAccuracy {
  const ret: Retrieved[] = queries.map((q, i) => ({ query_id: q.query_id, product_ids: lists[i]! }));
  const alias = ret.filter((_, i) => queries[i]!.intent === 'alias');
  const hits = queryHits(ret, truth, { k });
  const perQuery = { n: ret.length, fingerprint: fingerprint(ret.map((r) => r.query_id)), top1: toDigits(hits.top1, `${name} top-1`), anyOfK: toDigits(hits.anyOfK, `${name} any of top ${k}`) };
  return { name, all: retrievalAccuracy(ret, truth, { k }), alias: retrievalAccuracy(alias, truth, { k }), perQuery };
}

export async function runRqaStage(o: RqaStageOpts): Promise<RqaStageResult> {
  const t0 = performance.now();
  const baseInfo = await readBase(o.base, o.tokenizer);
  const c = o.cfg;
  const market = marketDataHash(o.data);
  const hashes = { market, tokenizer: baseInfo.tokenizerHash, base: baseInfo.digest };
  const paths = { market: o.data, base: o.base };
  const record = provenance(hashes, { star: o.star, maxLen: o.maxLen, cfg: c }, paths);
  const rebuild = `remove ${o.out} and run \`csrm rqa\`${o.star ? ' --star' : ''} again`;
  const done = readJsonIf<RqaStageResult>(join(o.out, 'result.json'));
  if (done && existsSync(join(o.out, 'rqa.jsonl'))) {
    checkProvenance(`${o.out}/result.json`, done.provenance, record, rebuild);
    if (!o.quiet) console.error(`rqa${o.star ? '*' : ''}: already done (delete ${o.out}/result.json to rerun)`);
    return done;
  }
  const rankerDir = o.rankerDir ?? join(o.out, 'ranker');
  if (o.reuseRanker && !existsSync(join(rankerDir, 'done')))
    throw new Error(`--ranker ${rankerDir}: no finished conversion ranker there (${existsSync(rankerDir) ? 'the folder has no "done" marker' : 'no such folder'}); give the ranker folder of a finished \`csrm rqa\` run (its out/ranker), or leave --ranker out to train one`);
  mkdirSync(o.out, { recursive: true });
  const log = (s: string) => (o.quiet ? undefined : console.error(s));
  const tok = await loadBaseTokenizer(baseInfo);
  const data = await loadMarketData(o.data);
  const S = data.source;
  const T = data.target;
  const titles = new Map<string, Map<string, string>>();
  for (const m of [S, T]) titles.set(m, new Map(data.catalogue[m]!.map((p) => [p.product_id, p.product_title])));
  if (data.catalogue[T]!.length === 0) throw new Error(`${o.data}/catalogue: no ${T} catalogue to retrieve from`);

  // 1. BM25 pseudo pairs for the target queries
  const tgtRecs = allRecords(data, T);
  const tgtQueries = marketQueries(tgtRecs);
  const bm25 = buildBm25(catalogueDocs(data.catalogue[T]!));
  const pseudo = pseudoPairs(bm25, tgtQueries, c.pseudoK);
  log(`rqa: ${pseudo.length} BM25 pseudo pairs for ${tgtQueries.length} ${T} queries`);

  // 2. conversion ranker on source behaviour → CVR of the pseudo pairs
  const pseudoPath = join(o.out, 'pseudo-pairs.jsonl');
  const rankerBase = await loadBase(o.base);
  const { model } = rankerBase;
  mkdirSync(rankerDir, { recursive: true });
  const rankerMade = provenance(hashes, { ranker: c.ranker, seed: c.seed, maxLen: o.maxLen }, paths);
  const ranker = await trainRanker(model, tok, data.behaviour[S]!, (id) => titles.get(S)!.get(id), rankerDir, { ...c.ranker, maxLen: o.maxLen, seed: c.seed, quiet: o.quiet }, rankerBase, rankerMade);
  const cvr = await predictCvr(model, tok, pseudo.map((p) => ({ query: p.query, title: titles.get(T)!.get(p.product_id)! })), o.maxLen);
  disposeLlama(model);
  writeFileSync(pseudoPath, pseudo.map((p, i) => JSON.stringify({ ...p, cvr: cvr[i] })).join('\n') + '\n');
  const meanPseudoCvr = cvr.reduce((s, x) => s + x, 0) / Math.max(1, cvr.length);
  log(`rqa: conversion ranker (${ranker.examples} examples, ${ranker.positives} bought) → mean pseudo-pair CVR ${meanPseudoCvr.toFixed(3)}`);

  // 3. EBR distillation (eq. 1)
  const pairs: EbrPair[] = pseudo.map((p, i) => ({ query: nonEmpty(tok, p.query), product: nonEmpty(tok, titles.get(T)!.get(p.product_id)!), cvr: cvr[i]! }));
  const fromLogs = (logs: readonly BehaviourRecord[], m: string) =>
    logs.filter((b) => b.clicks > 0 && titles.get(m)!.has(b.product_id)).map((b) => ({ query: nonEmpty(tok, b.query), product: nonEmpty(tok, titles.get(m)!.get(b.product_id)!), cvr: observedCvr(b) }));
  const srcPairs = fromLogs(data.behaviour[S]!, S);
  const tgtPairs = o.star ? fromLogs(data.behaviour[T]!, T) : [];
  pairs.push(...srcPairs, ...tgtPairs);
  const catTok = new Map<string, number[][]>();
  for (const m of [S, T]) catTok.set(m, data.catalogue[m]!.map((p) => nonEmpty(tok, p.product_title)));
  const { model: base } = await loadBase(o.base);
  const embedInit = (await read(base.embed)) as Float32Array;
  const cfgE = { vocabSize: base.config.vocabSize, embedDim: base.config.dim, dim: c.ebr.dim };
  disposeLlama(base);
  const enc = initBiEncoder(cfgE, c.seed, embedInit);
  const ckpt = join(o.out, 'ebr.ckpt');
  let train = { losses: [] as { step: number; loss: number }[], seconds: 0, pairsPerSec: 0 };
  const ebrMade = provenance({ ...hashes, ranker: await checkpointDigest(join(rankerDir, 'last.ckpt')) }, { star: o.star, ebr: c.ebr, seed: c.seed, maxLen: o.maxLen }, paths);
  if (existsSync(ckpt)) {
    const saved = await loadCheckpoint(ckpt);
    checkProvenance(`EBR ${ckpt}`, (saved.meta as { provenance?: ProvenanceRecord }).provenance, ebrMade, rebuild);
    loadTensorsInto(biEncoderTensors(enc), saved.tensors);
    train = (saved.meta as { train: typeof train }).train;
  } else {
    train = await trainEbr(enc, pairs, [...catTok.get(T)!, ...catTok.get(S)!], { ...c.ebr, seed: c.seed, label: o.star ? 'EBR*' : 'EBR', quiet: o.quiet });
    await saveCheckpoint(ckpt, { config: cfgE, tensors: biEncoderTensors(enc), step: c.ebr.steps, meta: { train, provenance: ebrMade } });
  }

  // 4. retrieval per market → rqa.jsonl; accuracy on the target queries
  const retrievers = new Map<string, RetrieveIds>();
  for (const m of [S, T]) {
    const cat = data.catalogue[m]!;
    const ids = cat.map((p) => p.product_id);
    const emb = o.queue
      ? await embedSharded(ckpt, 'product', catTok.get(m)!, enc.config.dim, { queue: o.queue, dir: join(o.out, `catalogue-${m}.shards`), label: `embed ${m}`, quiet: o.quiet })
      : await encodeAllHost(enc, 'product', catTok.get(m)!);
    const saved = catalogueEmbeddings(ids, enc.config.dim, emb);
    await writeCatalogueEmbeddings(join(o.out, `catalogue-${m}.emb`), saved);
    let index;
    if (c.index === 'hnsw' && ids.length > 0) {
      const path = join(o.out, `catalogue-${m}.hnsw`);
      index = loadHnsw(path, saved.sha256, saved.dim, ids.length, c.hnsw);
      if (!index) {
        const t = performance.now();
        index = buildHnsw(emb, saved.dim, c.hnsw);
        saveHnsw(path, index, saved.sha256);
        log(`rqa: HNSW index of ${ids.length} ${m} products built in ${((performance.now() - t) / 1000).toFixed(1)} s → ${path}`);
      }
    }
    retrievers.set(m, await ebrRetriever(enc, tok, ids, emb, index));
  }
  const lines: string[] = [];
  let withTitles = 0;
  let records = 0;
  for (const m of [S, T]) {
    if (data.catalogue[m]!.length === 0) continue;
    const recs = await withRqa(allRecords(data, m), retrievers.get(m)!, { k: c.k, titleOf: (id) => titles.get(m)!.get(id) });
    for (const r of recs) {
      lines.push(JSON.stringify({ key: sampleKey(r), titles: r.rqa }));
      records++;
      if (r.rqa.length > 0) withTitles++;
    }
  }
  const truth = marketTruth(tgtRecs, readProductFacts(o.data));
  const K = c.accuracyK;
  const qTexts = tgtQueries.map((q) => q.query);
  const accuracy: RqaAccuracy[] = [];
  if (!o.star) accuracy.push(accuracyOf('BM25', tgtQueries, searchBatch(bm25, qTexts, K).map((h) => h.map((x) => x.id)), truth, K));
  accuracy.push(accuracyOf(o.star ? 'EBR*' : 'EBR', tgtQueries, await retrievers.get(T)!(qTexts, K), truth, K));
  disposeBiEncoder(enc);
  writeFileSync(join(o.out, 'rqa.jsonl'), lines.join('\n') + '\n');
  const truthNote = 'generator true_label of judged (query, product) pairs; unjudged products exact when their truth/products.jsonl facts equal a judged-exact product of the query, else counted wrong (a lower bound)';
  writeJson(join(o.out, 'retrieval-accuracy.json'), { k: K, truth: truthNote, rows: accuracy });
  log(`rqa${o.star ? '*' : ''}: retrieval accuracy on ${T} queries (k=${K}):\n${formatAccuracy(accuracy.map((a) => ({ name: a.name, acc: a.all })))}\nalias queries:\n${formatAccuracy(accuracy.map((a) => ({ name: a.name, acc: a.alias })))}`);
  const result: RqaStageResult = {
    star: o.star, pseudoPairs: pseudo.length, meanPseudoCvr, ranker,
    ebr: { pairs: pairs.length, sourcePairs: srcPairs.length, targetBehaviourPairs: tgtPairs.length, firstLoss: train.losses[0]?.loss ?? NaN, finalLoss: train.losses.at(-1)?.loss ?? NaN, seconds: train.seconds, pairsPerSec: train.pairsPerSec },
    records, withTitles, accuracy, truth: truthNote, seconds: (performance.now() - t0) / 1000,
    provenance: record, output: fileSha256(join(o.out, 'rqa.jsonl'), 'RQA titles'),
  };
  writeJson(join(o.out, 'result.json'), result);
  return result;
}
