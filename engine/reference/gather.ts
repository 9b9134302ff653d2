// Float64 references of kernels/gather/rows.ts (ids clamped to [0, V − 1] exactly as on the GPU).
type Arr = { [i: number]: number; length: number };

const clampId = (id: number, V: number) => Math.min(Math.max(id, 0), V - 1);

/** y[j, :] = table[clamp(ids[j]), :] for a table [V, D]. */
export function gatherRowsRef(table: Arr, V: number, D: number, ids: Arr, dst: Arr): void {
  for (let j = 0; j < ids.length; j++) {
    const row = clampId(ids[j]!, V);
    for (let d = 0; d < D; d++) dst[j * D + d] = table[row * D + d]!;
  }
}

/** dT[v, :] = Σ_{j : clamp(ids[j]) = v} g[j, :] (rows without ids are zero). */
export function scatterRowsRef(g: Arr, V: number, D: number, ids: Arr, dst: Arr): void {
  for (let i = 0; i < V * D; i++) dst[i] = 0;
  for (let j = 0; j < ids.length; j++) {
    const row = clampId(ids[j]!, V);
    for (let d = 0; d < D; d++) dst[row * D + d] += g[j * D + d]!;
  }
}
