// Top-k selection with a size-k min-heap: O(n log k) and O(k) memory, so a query never sorts all
// the documents it touched. Order: higher score first, ties to the lower index, so every retriever
// (inverted index, scan, GPU kernel, host fallback) returns the same list for the same scores.

export interface Hit {
  index: number;
  score: number;
}

/** Whether (sa, ia) ranks above (sb, ib). */
export function better(sa: number, ia: number, sb: number, ib: number): boolean {
  return sa > sb || (sa === sb && ia < ib);
}

/** A bounded min-heap whose root is the worst of the k best seen so far. */
export class TopK {
  private readonly scores: Float64Array;
  private readonly idx: Int32Array;
  private n = 0;

  constructor(readonly k: number) {
    this.scores = new Float64Array(Math.max(1, k));
    this.idx = new Int32Array(Math.max(1, k));
  }

  /** The score an item must beat to enter (−∞ until the heap is full). */
  get threshold(): number {
    return this.n < this.k ? -Infinity : this.scores[0]!;
  }

  push(index: number, score: number): void {
    if (this.k === 0) return;
    const s = this.scores;
    const ix = this.idx;
    if (this.n < this.k) {
      // sift up
      let i = this.n++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!better(s[p]!, ix[p]!, score, index)) break;
        s[i] = s[p]!;
        ix[i] = ix[p]!;
        i = p;
      }
      s[i] = score;
      ix[i] = index;
      return;
    }
    if (!better(score, index, s[0]!, ix[0]!)) return;
    // replace the root, sift down
    let i = 0;
    const n = this.n;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const w = r < n && better(s[l]!, ix[l]!, s[r]!, ix[r]!) ? r : l; // the worse child
      if (!better(score, index, s[w]!, ix[w]!)) break;
      s[i] = s[w]!;
      ix[i] = ix[w]!;
      i = w;
    }
    s[i] = score;
    ix[i] = index;
  }

  /** The kept items, best first. */
  sorted(): Hit[] {
    const out: Hit[] = [];
    for (let i = 0; i < this.n; i++) out.push({ index: this.idx[i]!, score: this.scores[i]! });
    return out.sort((a, b) => (better(a.score, a.index, b.score, b.index) ? -1 : 1));
  }
}
