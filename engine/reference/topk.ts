// Float64 row-wise top-k merge, the twin of kernels/topk/rows.ts: the k best of a row's scores
// (column j has global index start + j) and of a running list, higher value first, ties to the
// lower index. Slots with nothing to hold are (TOPK_EMPTY, TOPK_NONE), as the kernel writes them.
export const TOPK_NONE = 0xffffffff;
export const TOPK_EMPTY = -3.4028234663852886e38; // −f32 max

export function topkMergeRef(
  scores: ArrayLike<number>,
  rows: number,
  C: number,
  start: number,
  prev: { values: ArrayLike<number>; indices: ArrayLike<number> } | null,
  k: number,
): { values: Float64Array; indices: Uint32Array } {
  const values = new Float64Array(rows * k).fill(TOPK_EMPTY);
  const indices = new Uint32Array(rows * k).fill(TOPK_NONE);
  for (let r = 0; r < rows; r++) {
    const cand: [number, number][] = [];
    for (let j = 0; j < C; j++) cand.push([scores[r * C + j]!, start + j]);
    if (prev) for (let j = 0; j < k; j++) if (prev.indices[r * k + j] !== TOPK_NONE) cand.push([prev.values[r * k + j]!, prev.indices[r * k + j]!]);
    cand.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    cand.slice(0, k).forEach(([v, i], j) => {
      values[r * k + j] = v;
      indices[r * k + j] = i;
    });
  }
  return { values, indices };
}
