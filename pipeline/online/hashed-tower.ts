// A real, training-free twin tower: hashed character n-gram bags (the "hashing trick"), signed so
// unrelated texts have cosine ≈ 0 and σ(s·c) ≈ 0.5 sits on the decision threshold. It is the
// lexical baseline the distilled towers must beat, and it lets the service run end to end today.
import type { TowerModel } from './types.ts';

export interface HashedTowerOptions {
  /** Embedding size. */
  dim?: number;
  /** s in σ(s·c). */
  scale?: number;
  /** Character n-gram lengths that are hashed. */
  ngrams?: number[];
  /** Seed of the hash, so two towers can use independent buckets. */
  seed?: number;
  /**
   * Negate the item tower: c becomes −cos, so σ(s·c) scores dissimilarity. That is the defect
   * baseline — "irrelevant" is what the lexical similarity does not support.
   */
  invert?: boolean;
}

/** FNV-1a over UTF-16 units, mixed with a seed; 32-bit. */
export function fnv1a(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ Math.imul(seed, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // final avalanche, so the low bits used for the bucket depend on every character
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  return h >>> 0;
}

/** Lower-cased, NFKC-normalised, whitespace-collapsed text, framed by boundary marks. */
export function normaliseText(text: string): string {
  return `\u0002${text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim()}\u0003`;
}

/** Every n-gram of every length in `ns`; a text shorter than n contributes itself once. */
export function charNgrams(framed: string, ns: number[]): string[] {
  const chars = Array.from(framed); // code points, so CJK and emoji are not split
  const out: string[] = [];
  for (const n of ns) {
    if (chars.length <= n) out.push(chars.join(''));
    else for (let i = 0; i + n <= chars.length; i++) out.push(chars.slice(i, i + n).join(''));
  }
  return out;
}

function l2(v: Float64Array): number {
  let s = 0;
  for (let j = 0; j < v.length; j++) s += v[j]! * v[j]!;
  return Math.sqrt(s);
}

export function hashedEmbedding(text: string, dim: number, ns: number[], seed: number, sign = 1): Float32Array {
  const grams = charNgrams(normaliseText(text), ns);
  const signed = new Float64Array(dim);
  const unsigned = new Float64Array(dim);
  for (const g of grams) {
    const h = fnv1a(g, seed);
    const b = h % dim;
    signed[b]! += (h & 0x80000000) !== 0 ? -1 : 1;
    unsigned[b]! += 1;
  }
  let v = signed;
  let norm = l2(signed);
  // Signed buckets can cancel exactly (rare, short texts); the unsigned bag never does.
  if (norm === 0) {
    v = unsigned;
    norm = l2(unsigned);
  }
  const e = new Float32Array(dim);
  for (let j = 0; j < dim; j++) e[j] = (sign * v[j]!) / norm + 0; // + 0 turns −0 into 0, which JSON cannot tell apart anyway
  return e;
}

export function createHashedTower(opts: HashedTowerOptions = {}): TowerModel {
  const dim = opts.dim ?? 128;
  const scale = opts.scale ?? 8;
  const ns = opts.ngrams ?? [3];
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`hashed tower: dim must be a positive integer, got ${dim}`);
  if (!(scale > 0)) throw new Error(`hashed tower: scale must be > 0, got ${scale}`);
  if (ns.length === 0 || ns.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`hashed tower: bad n-gram lengths ${ns.join(',')}`);
  const itemSign = opts.invert ? -1 : 1;
  return {
    dim,
    scale,
    encodeQueries: async (texts) => texts.map((t) => hashedEmbedding(t, dim, ns, seed)),
    encodeItems: async (items) => items.map((it) => hashedEmbedding(it.text, dim, ns, seed, itemSign)),
  };
}
