// The workgroup half of an online log-sum-exp, shared by the row-wise losses (lm-ce.ts, ebr.ts):
// each thread holds a running (max m, Σ s) over its strided columns; the tree below merges the
// pairs into (pm[0], ps[0]) with Σ = s1·e^(m1−M) + s2·e^(m2−M), M = max(m1, m2). Every thread of
// the workgroup must reach it (it has barriers).

/** WGSL declarations of the pair arrays for a workgroup of `wg` threads. */
export const lseMergeVars = (wg: number) => /* wgsl */ `var<workgroup> pm: array<f32, ${wg}>;
var<workgroup> ps: array<f32, ${wg}>;`;

/** WGSL statements merging each thread's (m, s) into (pm[0], ps[0]); `lid` is the local index. */
export const lseMerge = (wg: number) => /* wgsl */ `pm[lid] = m;
  ps[lid] = s;
  workgroupBarrier();
  for (var h = ${wg / 2}u; h > 0u; h = h >> 1u) {
    if (lid < h) {
      let m2 = pm[lid + h];
      let mn = max(pm[lid], m2);
      ps[lid] = ps[lid] * exp(pm[lid] - mn) + ps[lid + h] * exp(m2 - mn);
      pm[lid] = mn;
    }
    workgroupBarrier();
  }`;
