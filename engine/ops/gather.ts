// gatherRows(table [V, D], ids i32 [...]) → [..., D]: embedding lookup.
//   dTable = scatter-add of g's rows into [V, D] (deterministic, no atomics; see kernels/gather/rows.ts).
// Ids are GPU data, so range is not checked on the host: out-of-range ids are clamped to [0, V − 1]
// on both backends (and their gradient lands on the clamped row). A caller that also holds the ids on
// the host (a training batch's tokens) passes them: the backward then sums from a host-built index.
import { record } from '../autograd.ts';
import { launch, grid1d } from '../runtime.ts';
import { assertDtype, assertLive, assertSameBackend, empty, Tensor } from '../tensor.ts';
import { tensor } from '../create.ts';
import { gatherKernel, GATHER_WG, scatterCsrKernel, scatterKernel, scatterKernelSubgroup, scatterKernelSubgroupAcc, SCATTER_CHUNK, SCATTER_WG } from '../../kernels/gather/rows.ts';
import { subgroupKernelSize } from '../kernel-family.ts';
import { gatherRowsRef, scatterRowsRef } from '../reference/gather.ts';

function gatherRaw(table: Tensor, ids: Tensor): Tensor {
  const [V, D] = table.shape as [number, number];
  const out = empty([...ids.shape, D], 'f32', table.backend);
  if (out.size === 0) return out;
  if (table.backend === 'cpu') {
    gatherRowsRef(table.cpu!, V, D, ids.cpu!, out.cpu!);
    return out;
  }
  const vec = D % 4 === 0;
  const cols = vec ? D / 4 : D;
  launch(gatherKernel(vec), [table, ids, out], grid1d(Math.ceil((ids.size * cols) / GATHER_WG)), [ids.size, cols, V], 'gatherRows');
  return out;
}

/**
 * The positions of each vocab row's ids, [offsets (V + 1), positions (n)]: a stable counting sort of
 * the ids clamped to [0, V − 1] as the kernels clamp them.
 */
export function scatterIndex(ids: ArrayLike<number>, V: number): Int32Array {
  const n = ids.length;
  const out = new Int32Array(V + 1 + n);
  const row = (j: number) => Math.min(Math.max(ids[j]!, 0), V - 1);
  for (let j = 0; j < n; j++) out[row(j) + 1]++;
  for (let v = 0; v < V; v++) out[v + 1] += out[v]!;
  const next = out.slice(0, V);
  for (let j = 0; j < n; j++) out[V + 1 + next[row(j)]!++] = j;
  return out;
}

/**
 * The gather's backward: g [..., D] summed into a [V, D] gradient by id. With `hostIds` (the same ids
 * as host numbers) the sum runs from scatterIndex's index: O(V·D + n·D) instead of O(V·n) compares.
 */
export function scatterRows(g: Tensor, ids: Tensor, V: number, hostIds?: ArrayLike<number>, into: Tensor | null = null): Tensor {
  const D = g.shape[g.rank - 1]!;
  const vec = D % 4 === 0;
  const cols = vec ? D / 4 : D;
  const SG = subgroupKernelSize(SCATTER_WG);
  // a gradient so far (GradNode.backward's `into`) takes the sum in place where a kernel adds into it:
  // the host-id scatter, or the subgroup scatter of rows of at most SCATTER_CHUNK columns
  const acc = (!!hostIds || (SG !== null && cols <= SCATTER_CHUNK)) && into !== null && g.backend === 'gpu' && into.dtype === 'f32' && into.size === V * D && into.gpu?.refs === 1 && V * D > 0;
  const out = acc ? into : empty([V, D], 'f32', g.backend);
  if (out.size === 0) return out;
  if (g.backend === 'cpu') {
    scatterRowsRef(g.cpu!, V, D, ids.cpu!, out.cpu!);
    return out;
  }
  if (hostIds) {
    // measured on lavapipe, table [3000, 64] from 1696 ids: adapter-thread CPU ≈ 3 → 0.2 ms
    const csr = tensor(scatterIndex(hostIds, V), [V + 1 + hostIds.length], { dtype: 'i32' });
    launch(scatterCsrKernel(vec, acc), [g, csr, out], grid1d(Math.ceil((V * cols) / SCATTER_WG)), [V, cols], 'gatherRows_backward');
    csr.dispose();
    return out;
  }
  const chunk = Math.min(cols, SCATTER_CHUNK);
  const nChunks = Math.ceil(cols / chunk);
  if (acc) {
    launch(scatterKernelSubgroupAcc(vec, SG!, cols), [g, ids, out], grid1d(Math.ceil(V / SCATTER_WG)), [ids.size, cols, V, chunk, nChunks], 'gatherRows_backward');
    return out;
  }
  // subgroup family: the ids are loaded once per subgroup (kernels/gather/rows.ts); measured on
  // lavapipe, table [3000, 64] from 1776 ids, adapter-thread CPU 9.0 → 3.8 ms
  const k = SG === null ? scatterKernel(vec) : scatterKernelSubgroup(vec, SG);
  launch(k, [g, ids, out], grid1d(Math.ceil((V * nChunks) / SCATTER_WG)), [ids.size, cols, V, chunk, nChunks], 'gatherRows_backward');
  return out;
}

/**
 * Rows of `table` [V, D] picked by integer `ids` of any shape; result [...ids.shape, D]. `hostIds`:
 * the same ids as host numbers, where the caller has them (the backward's faster scatter).
 */
export function gatherRows(table: Tensor, ids: Tensor, hostIds?: ArrayLike<number>): Tensor {
  assertLive('gatherRows', table, ids);
  assertDtype('gatherRows', table, 'f32');
  assertDtype('gatherRows', ids, 'i32');
  assertSameBackend('gatherRows', table, ids);
  if (table.rank !== 2 || table.shape[0] === 0) {
    throw new Error(`gatherRows: table must be [V, D] with V ≥ 1, got [${table.shape.join(', ')}] (ids [${ids.shape.join(', ')}])`);
  }
  if (hostIds && hostIds.length !== ids.size) throw new Error(`gatherRows: ${hostIds.length} host ids for ids [${ids.shape.join(', ')}] (${ids.size})`);
  const y = gatherRaw(table, ids);
  return record(y, 'gatherRows', [table, ids], (g, into) => [scatterRows(g, ids, table.shape[0]!, hostIds, into?.[0] ?? null), null]);
}
