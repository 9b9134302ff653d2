// Greedy generation with a KV cache (the translation task generates text). One sequence at a time:
// a right-padded batch would leave holes between prompt and generated keys.
import { isKept, keep, noGrad, read, release, scopeAsync, tensor, type Tensor } from '../engine/index.ts';
import { forwardHidden, hiddenRows, lmLogits, type KvCache, type Llama } from './llama.ts';

function argmax(a: ArrayLike<number>): number {
  let bi = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[bi]!) bi = i;
  return bi;
}

/** Greedily continues `prompt` for up to maxNew tokens, stopping after `eosId`. Returns the new tokens. */
export async function generateGreedy(m: Llama, prompt: number[], maxNew: number, eosId: number, opts: { useCache?: boolean } = {}): Promise<number[]> {
  if (prompt.length === 0) throw new Error('generateGreedy: empty prompt');
  const useCache = opts.useCache ?? true;
  const out: number[] = [];
  const cache: KvCache = { k: m.layers.map(() => null), v: m.layers.map(() => null), len: 0 };
  const held: Tensor[] = [];
  try {
    let feed = prompt;
    for (let i = 0; i < maxNew; i++) {
      const all = [...prompt, ...out];
      if (all.length > m.config.maxSeqLen) break;
      const ids = useCache ? feed : all;
      const start = useCache ? cache.len : 0;
      const next = await scopeAsync(async () => {
        const logits = noGrad(() => {
          const T = ids.length;
          const batch = {
            ids: tensor(ids, [1, T], { dtype: 'i32' }),
            positions: tensor(ids.map((_, j) => start + j), [1, T], { dtype: 'i32' }),
            lengths: tensor([T], [1], { dtype: 'i32' }),
            B: 1,
            T,
          };
          const h = forwardHidden(m, batch, { cache: useCache ? cache : undefined });
          if (useCache) {
            // the cache's tensors outlive this scope; the previous ones are freed below
            for (const t of [...cache.k, ...cache.v]) if (t && !isKept(t)) held.push(keep(t));
          }
          return lmLogits(m, hiddenRows(h, [T - 1]));
        });
        return argmax(await read(logits));
      });
      if (useCache) {
        cache.len += ids.length;
        const live = new Set([...cache.k, ...cache.v]);
        for (let j = held.length - 1; j >= 0; j--) {
          if (!live.has(held[j]!)) {
            release(held[j]);
            held.splice(j, 1);
          }
        }
      }
      out.push(next);
      feed = [next];
      if (next === eosId) break;
    }
  } finally {
    release(...held);
  }
  return out;
}
