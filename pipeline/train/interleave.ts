// Multi-task mini-batches (section 3.2): samples of each task are interleaved by predefined ratios
// and drawn at random. Each batch slot picks a task with probability ∝ its ratio, then the next
// sample of that task's shuffled stream (reshuffled at the end of each epoch of that task).
import { rng, type Rng } from '../../engine/random.ts';

export interface TaskStream<T> {
  name: string;
  ratio: number;
  items: T[];
}

export interface Drawn<T> {
  task: string;
  item: T;
}

export interface Interleaver<T> {
  next(batchSize: number): Drawn<T>[];
  /** Serializable position, for checkpoints (resume draws the same batches). */
  state(): { rng: number[]; cursors: number[]; orders: number[][] };
}

function shuffle(r: Rng, n: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

export function interleave<T>(tasks: TaskStream<T>[], seed: number, resume?: ReturnType<Interleaver<T>['state']>): Interleaver<T> {
  const live = tasks.filter((t) => t.ratio > 0);
  for (const t of live) {
    if (t.items.length === 0) throw new Error(`interleave: task "${t.name}" has ratio ${t.ratio} but no samples`);
  }
  if (live.length === 0) throw new Error('interleave: no task with a positive ratio');
  const r = rng(resume ? resume.rng : seed);
  const total = live.reduce((s, t) => s + t.ratio, 0);
  const orders = resume ? resume.orders.map((o) => [...o]) : live.map((t) => shuffle(r, t.items.length));
  const cursors = resume ? [...resume.cursors] : live.map(() => 0);
  return {
    next(batchSize) {
      const out: Drawn<T>[] = [];
      for (let b = 0; b < batchSize; b++) {
        let u = r.uniform() * total;
        let k = 0;
        while (k < live.length - 1 && u >= live[k]!.ratio) {
          u -= live[k]!.ratio;
          k++;
        }
        const t = live[k]!;
        if (cursors[k]! >= t.items.length) {
          orders[k] = shuffle(r, t.items.length);
          cursors[k] = 0;
        }
        out.push({ task: t.name, item: t.items[orders[k]![cursors[k]!++]!]! });
      }
      return out;
    },
    state: () => ({ rng: r.state(), cursors: [...cursors], orders: orders.map((o) => [...o]) }),
  };
}
