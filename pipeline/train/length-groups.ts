// Length-grouped mini-batches. A batch is padded to its longest sample, so random batches of the
// relevance prompts (56 tokens on average, the longest of 16 ≈ 73) spend about a quarter of every
// step on padding. Drawing `groups` batches' worth of samples at once, sorting them by length,
// cutting them into batches and taking those batches in a random order keeps every sample and the
// interleaving ratios (it only reorders what the interleaver drew) while padding far less.
import { rng } from '../../engine/random.ts';
import type { Drawn, Interleaver } from './interleave.ts';

type InnerState<T> = ReturnType<Interleaver<T>['state']>;

export interface GroupedState<T> {
  /** The interleaver's position at the start of the current pool (the pool is drawn again on resume). */
  inner: InnerState<T>;
  pool: number; // pools drawn so far
  pos: number; // batches of the current pool already given out
}

export interface BatchStream<T> {
  next(): Drawn<T>[];
  /** Serializable position: resuming from it gives exactly the batches that would have come next. */
  state(): GroupedState<T>;
}

/**
 * Batches of `batchSize` from the interleaver that `make` builds (from a saved state, or fresh),
 * grouped by `lengthOf` in pools of `groups` batches. groups ≤ 1 is the interleaver's own order.
 */
export function lengthGrouped<T>(
  make: (resume?: InnerState<T>) => Interleaver<T>,
  batchSize: number,
  groups: number,
  lengthOf: (item: T) => number,
  seed: number,
  resume?: GroupedState<T>,
): BatchStream<T> {
  if (resume && !('inner' in resume)) throw new Error('batch cursor in the checkpoint is from an older format: delete the stage folder to start it again');
  const inner = make(resume?.inner);
  let pool = resume?.pool ?? 0;
  let start: InnerState<T> = inner.state();
  let batches: Drawn<T>[][] = [];
  let pos = 0;
  const drawPool = () => {
    start = inner.state();
    const drawn = inner.next(batchSize * Math.max(1, groups));
    if (groups <= 1) {
      batches = [drawn];
    } else {
      // stable: equal lengths keep the order they were drawn in
      const order = drawn.map((_, i) => i).sort((a, b) => lengthOf(drawn[a]!.item) - lengthOf(drawn[b]!.item) || a - b);
      batches = [];
      for (let i = 0; i < order.length; i += batchSize) batches.push(order.slice(i, i + batchSize).map((j) => drawn[j]!));
      const r = rng([seed, pool]);
      for (let i = batches.length - 1; i > 0; i--) {
        const j = r.int(i + 1);
        [batches[i], batches[j]] = [batches[j]!, batches[i]!];
      }
    }
    pos = 0;
  };
  if (resume && resume.pos > 0) {
    drawPool();
    pos = resume.pos;
  }
  return {
    next() {
      if (pos >= batches.length) {
        if (batches.length) pool++;
        drawPool();
      }
      return batches[pos++]!;
    },
    state: () => (pos > 0 && pos < batches.length ? { inner: start, pool, pos } : { inner: inner.state(), pool: pos >= batches.length && batches.length ? pool + 1 : pool, pos: 0 }),
  };
}
