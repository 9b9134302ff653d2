// Row-wise top-k: the k largest entries of each row of a [rows, C] matrix and their column indices,
// best first, ties to the lower index. topkMerge folds a chunk of columns (global indices start + j)
// into a running list, so a search over N columns never holds more than one chunk of scores.
// GPU: kernels/topk/rows.ts (one workgroup per row); CPU: reference/topk.ts. Retrieval only: the
// outputs carry no gradient. Empty slots (fewer than k candidates) are (TOPK_EMPTY, TOPK_NONE).
import { launch, grid1d } from '../runtime.ts';
import { assertDtype, assertLive, assertSameBackend, empty, type Tensor } from '../tensor.ts';
import { topkCapacity, topkRows, TOPK_MAX_K } from '../../kernels/topk/rows.ts';
import { topkMergeRef, TOPK_EMPTY, TOPK_NONE } from '../reference/topk.ts';

export { TOPK_EMPTY, TOPK_MAX_K, TOPK_NONE };

/** values f32 [rows, k], indices u32 [rows, k]. */
export interface TopkLists {
  values: Tensor;
  indices: Tensor;
}

function check(scores: Tensor, k: number, start: number, prev: TopkLists | null): void {
  const fail = (why: string) => {
    throw new Error(`topk: ${why} (scores ${scores}, k ${k}${prev ? `, running ${prev.values}` : ''})`);
  };
  assertLive('topk', scores, ...(prev ? [prev.values, prev.indices] : []));
  assertDtype('topk', scores, 'f32');
  if (scores.rank !== 2) fail('scores must be 2-D [rows, columns]');
  if (!Number.isInteger(k) || k < 1 || k > TOPK_MAX_K) fail(`k must be an integer in [1, ${TOPK_MAX_K}]`);
  if (!Number.isInteger(start) || start < 0) fail('start must be a non-negative integer');
  if (prev) {
    assertSameBackend('topk', scores, prev.values, prev.indices);
    assertDtype('topk', prev.indices, 'u32');
    for (const t of [prev.values, prev.indices]) if (t.shape.join() !== `${scores.shape[0]},${k}`) fail(`running list ${t} is not [${scores.shape[0]}, ${k}]`);
  }
}

/** The k best of each row of `scores` (columns numbered from `start`) and of the running list `prev`. */
export function topkMerge(scores: Tensor, k: number, start = 0, prev: TopkLists | null = null): TopkLists {
  check(scores, k, start, prev);
  const [rows, C] = scores.shape as [number, number];
  const values = empty([rows, k], 'f32', scores.backend);
  const indices = empty([rows, k], 'u32', scores.backend);
  if (rows === 0) return { values, indices };
  if (scores.backend === 'cpu') {
    const r = topkMergeRef(scores.cpu!, rows, C, start, prev ? { values: prev.values.cpu!, indices: prev.indices.cpu! } : null, k);
    values.cpu!.set(r.values);
    indices.cpu!.set(r.indices);
    return { values, indices };
  }
  // without a running list the kernel still binds one: a one-element stand-in it never reads
  const pv = prev?.values ?? empty([1], 'f32');
  const pi = prev?.indices ?? empty([1], 'u32');
  launch(topkRows(topkCapacity(k)), [scores, pv, pi, values, indices], grid1d(rows), [rows, C, start, prev ? 1 : 0, k], 'topk');
  if (!prev) {
    pv.dispose();
    pi.dispose();
  }
  return { values, indices };
}

/** The k largest entries of each row and their column indices, best first. */
export const topk = (x: Tensor, k: number): TopkLists => topkMerge(x, k);
