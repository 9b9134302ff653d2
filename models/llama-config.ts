// Llama-family decoder configuration and presets. Sizes "tiny"/"small" fit lavapipe on 2 CPU cores;
// "base"/"large" only make sense on a real GPU.
export interface LoraConfig {
  r: number;
  alpha: number;
  dropout: number;
  targets: ('q' | 'k' | 'v' | 'o' | 'gate' | 'up' | 'down')[];
}

export interface LlamaConfig {
  vocabSize: number;
  dim: number;
  nLayers: number;
  nHeads: number;
  nKvHeads: number; // grouped-query attention when < nHeads
  ffnDim: number;
  maxSeqLen: number;
  ropeTheta: number;
  normEps: number;
  tieEmbeddings: boolean;
  lora: LoraConfig | null;
  /** The relevance answer's own output rows (untieLabels): the label token ids they were copied from; absent: the LM head's rows answer. */
  labelHead?: readonly [number, number, number];
}

export const PRESETS: Record<string, Omit<LlamaConfig, 'vocabSize'>> = {
  tiny: { dim: 64, nLayers: 2, nHeads: 4, nKvHeads: 2, ffnDim: 176, maxSeqLen: 128, ropeTheta: 10000, normEps: 1e-5, tieEmbeddings: true, lora: null },
  small: { dim: 128, nLayers: 4, nHeads: 4, nKvHeads: 2, ffnDim: 352, maxSeqLen: 160, ropeTheta: 10000, normEps: 1e-5, tieEmbeddings: true, lora: null },
  base: { dim: 512, nLayers: 8, nHeads: 8, nKvHeads: 4, ffnDim: 1408, maxSeqLen: 512, ropeTheta: 10000, normEps: 1e-5, tieEmbeddings: false, lora: null },
  large: { dim: 1024, nLayers: 16, nHeads: 16, nKvHeads: 8, ffnDim: 2816, maxSeqLen: 1024, ropeTheta: 500000, normEps: 1e-5, tieEmbeddings: false, lora: null },
};

export function headDim(c: LlamaConfig): number {
  return c.dim / c.nHeads;
}

/** The paper's LoRA (r = 128, alpha = 256, dropout 0.01 on Orion-14B's dim 5120) scaled to the model:
 * the same r/dim ratio (at least 4) and alpha = 2r. */
export function paperLora(dim: number): LoraConfig {
  const r = Math.max(4, Math.round((128 / 5120) * dim));
  return { r, alpha: 2 * r, dropout: 0.01, targets: ['q', 'k', 'v'] };
}

export function makeConfig(preset: string, vocabSize: number, over: Partial<LlamaConfig> = {}): LlamaConfig {
  const p = PRESETS[preset];
  if (!p) throw new Error(`unknown model preset "${preset}" (known: ${Object.keys(PRESETS).join(', ')})`);
  return validateConfig({ ...p, vocabSize, ...over });
}

export function validateConfig(c: LlamaConfig): LlamaConfig {
  const bad = (why: string) => {
    throw new Error(`invalid model config: ${why}`);
  };
  for (const k of ['vocabSize', 'dim', 'nLayers', 'nHeads', 'nKvHeads', 'ffnDim', 'maxSeqLen'] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) bad(`${k} = ${c[k]} must be a positive integer`);
  }
  if (c.dim % c.nHeads !== 0) bad(`dim ${c.dim} is not divisible by nHeads ${c.nHeads}`);
  if (c.nHeads % c.nKvHeads !== 0) bad(`nHeads ${c.nHeads} is not a multiple of nKvHeads ${c.nKvHeads}`);
  const hd = c.dim / c.nHeads;
  if (![16, 32, 64, 128].includes(hd)) bad(`head dim ${hd} must be 16, 32, 64 or 128`);
  if (c.lora && (c.lora.r <= 0 || !Number.isInteger(c.lora.r))) bad(`lora.r = ${c.lora.r}`);
  if (c.labelHead !== undefined && !(c.labelHead.length === 3 && c.labelHead.every((t) => Number.isInteger(t) && t >= 0 && t < c.vocabSize))) bad(`labelHead ${JSON.stringify(c.labelHead)} must be three token ids below vocabSize ${c.vocabSize}`);
  return c;
}

/** Parameter count of the base model and of the LoRA adapters. */
export function paramCounts(c: LlamaConfig): { base: number; lora: number } {
  const hd = headDim(c);
  const q = c.nHeads * hd;
  const kv = c.nKvHeads * hd;
  const perLayer = 2 * c.dim + c.dim * q + 2 * c.dim * kv + q * c.dim + 3 * c.dim * c.ffnDim;
  const base = c.vocabSize * c.dim * (c.tieEmbeddings ? 1 : 2) + c.nLayers * perLayer + c.dim + (c.labelHead ? 3 * c.dim : 0);
  let lora = 0;
  if (c.lora) {
    const outOf: Record<string, [number, number]> = {
      q: [c.dim, q], k: [c.dim, kv], v: [c.dim, kv], o: [q, c.dim], gate: [c.dim, c.ffnDim], up: [c.dim, c.ffnDim], down: [c.ffnDim, c.dim],
    };
    for (const t of c.lora.targets) {
      const [i, o] = outOf[t]!;
      lora += c.nLayers * c.lora.r * (i + o);
    }
  }
  return { base, lora };
}
