// The distilled twin tower (models/twin-tower.ts) as the serving side sees it (`TowerModel`), plus its
// checkpoint file. Texts are tokenised with the project's sentencepiece model, prefixed by BOS (so an
// empty text still has one token) and cut to maxLen; outputs are L2-normalised on the host, so the
// service's dot product is the cosine c of eq. 4.
import { getGpu, loadCheckpoint, loadTensorsInto, noGrad, read, saveCheckpoint, scopeAsync } from '../../engine/index.ts';
import {
  buildTokenBatch,
  encodeTower,
  initTwinTower,
  namedTwinTensors,
  validateTwinConfig,
  type TowerSide,
  type TwinTower,
  type TwinTowerConfig,
} from '../../models/twin-tower.ts';
import type { Tokenizer } from '../tokenizer/tokenizer.ts';
import type { TowerModel } from './types.ts';

export interface TwinCheckpointMeta {
  /** s in p̂ = σ(s·c) (paper: 8). */
  scale: number;
  /** What the tower was trained for: 'em' (teacher p_exact), 'defect' (p_irr), or a baseline. */
  task?: string;
  [k: string]: unknown;
}

/** BOS + pieces, cut to maxLen. */
export function towerTokens(tok: Tokenizer, text: string, maxLen: number): number[] {
  return [tok.bos, ...tok.encode(text)].slice(0, maxLen);
}

/** Tower outputs for texts, L2-normalised, in batches (no gradient). */
export async function embedTexts(m: TwinTower, tok: Tokenizer, side: TowerSide, texts: readonly string[], batchSize = 256): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const D = m.config.outDim;
  for (let s = 0; s < texts.length; s += batchSize) {
    const chunk = texts.slice(s, s + batchSize).map((t) => towerTokens(tok, t, m.config.maxLen));
    const v = await scopeAsync(async () =>
      read(noGrad(() => encodeTower(m, side, buildTokenBatch(chunk, tok.pad, m.config.maxLen)))),
    );
    for (let i = 0; i < chunk.length; i++) {
      const e = Float32Array.from(v.subarray(i * D, (i + 1) * D));
      let n = 0;
      for (let j = 0; j < D; j++) n += e[j]! * e[j]!;
      n = Math.sqrt(n);
      // the loss clamps norms at 1e-8 as well; a zero output has no direction and scores c = 0
      for (let j = 0; j < D; j++) e[j] = n > 1e-8 ? e[j]! / n : 0;
      if (!(n > 1e-8)) e[0] = 1;
      out.push(e);
    }
  }
  return out;
}

export function twinTowerModel(m: TwinTower, tok: Tokenizer, scale: number): TowerModel {
  return {
    dim: m.config.outDim,
    scale,
    encodeQueries: (texts) => embedTexts(m, tok, 'query', texts),
    encodeItems: (items) => embedTexts(m, tok, 'item', items.map((i) => i.text)),
  };
}

export async function saveTwinTower(path: string, m: TwinTower, meta: TwinCheckpointMeta): Promise<void> {
  await saveCheckpoint(path, { config: m.config, tensors: namedTwinTensors(m), step: 0, meta });
}

export async function loadTwinTower(path: string): Promise<{ model: TwinTower; meta: TwinCheckpointMeta }> {
  await getGpu();
  const c = await loadCheckpoint(path).catch((e: Error) => {
    throw new Error(`twin tower ${path}: ${e.message}`);
  });
  const meta = (c.meta ?? {}) as TwinCheckpointMeta;
  if (!(typeof meta.scale === 'number' && meta.scale > 0)) throw new Error(`twin tower ${path}: meta.scale missing or not > 0`);
  const model = initTwinTower(validateTwinConfig(c.config as TwinTowerConfig), 0);
  loadTensorsInto(namedTwinTensors(model), c.tensors);
  for (const t of Object.values(namedTwinTensors(model))) t.requiresGrad = false;
  return { model, meta };
}
