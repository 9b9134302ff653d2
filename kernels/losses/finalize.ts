// The last step of every row-wise loss: one workgroup sums the per-row (loss, count) pairs.
//   total = Σ loss_r / max(Σ count_r, 1)  (mean)   or   Σ loss_r  (sum)
// and stores the divisor in norm[0] so the backward kernels scale by the same number.
// One workgroup: the row count of a loss batch is small next to the work that produced the rows.
import { kernel } from '../kernel.ts';

export const FINALIZE_WG = 256;

export const lossFinalize = kernel(
  'loss_finalize',
  /* wgsl */ `
struct P { rows: u32, mean: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> stats: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> total: array<f32>;
@group(0) @binding(3) var<storage, read_write> norm: array<f32>;
var<workgroup> part: array<vec2<f32>, ${FINALIZE_WG}>;
@compute @workgroup_size(${FINALIZE_WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = vec2<f32>(0.0);
  for (var r = lid; r < p.rows; r += ${FINALIZE_WG}u) { acc += stats[r]; }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = ${FINALIZE_WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { part[lid] += part[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let n = select(1.0, max(part[0].y, 1.0), p.mean == 1u);
    total[0] = part[0].x / n;
    norm[0] = n;
  }
}`,
  ['r', 'rw', 'rw'],
);
