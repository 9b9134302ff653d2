// Float64 RMSNorm / LayerNorm over rows of length D, forward and backward (twins of kernels/norm).
//   rms:   y = x·r·w,          r = 1/sqrt(mean(x²) + eps)
//   layer: y = (x−μ)·r·w + b,  r = 1/sqrt(mean((x−μ)²) + eps)
// stats holds r per row (rms) or (μ, r) per row (layer), as the GPU kernels save them.
export type NormKind = 'rms' | 'layer';

export function normForwardRef(
  kind: NormKind,
  X: ArrayLike<number>,
  W: ArrayLike<number>,
  B: ArrayLike<number> | null,
  rows: number,
  D: number,
  eps: number,
): { y: Float64Array; stats: Float64Array } {
  const y = new Float64Array(rows * D);
  const stats = new Float64Array(kind === 'layer' ? 2 * rows : rows);
  for (let r = 0; r < rows; r++) {
    const o = r * D;
    let mu = 0;
    if (kind === 'layer') {
      for (let k = 0; k < D; k++) mu += X[o + k]!;
      mu /= D;
    }
    let q = 0;
    for (let k = 0; k < D; k++) q += (X[o + k]! - mu) ** 2;
    const rs = 1 / Math.sqrt(q / D + eps);
    for (let k = 0; k < D; k++) y[o + k] = (X[o + k]! - mu) * rs * W[k]! + (B ? B[k]! : 0);
    if (kind === 'layer') {
      stats[2 * r] = mu;
      stats[2 * r + 1] = rs;
    } else stats[r] = rs;
  }
  return { y, stats };
}

/** dx = r·(g − [mean(g)] − x̂·mean(g·x̂)) with g = dy·w;  dw = Σ_rows dy·x̂;  db = Σ_rows dy. */
export function normBackwardRef(
  kind: NormKind,
  X: ArrayLike<number>,
  W: ArrayLike<number>,
  stats: ArrayLike<number>,
  dY: ArrayLike<number>,
  rows: number,
  D: number,
): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const dx = new Float64Array(rows * D);
  const dw = new Float64Array(D);
  const db = new Float64Array(D);
  const xh = new Float64Array(D);
  for (let r = 0; r < rows; r++) {
    const o = r * D;
    const mu = kind === 'layer' ? stats[2 * r]! : 0;
    const rs = kind === 'layer' ? stats[2 * r + 1]! : stats[r]!;
    let sg = 0;
    let sgx = 0;
    for (let k = 0; k < D; k++) {
      xh[k] = (X[o + k]! - mu) * rs;
      const g = dY[o + k]! * W[k]!;
      sg += g;
      sgx += g * xh[k]!;
      dw[k]! += dY[o + k]! * xh[k]!;
      db[k]! += dY[o + k]!;
    }
    const mg = kind === 'layer' ? sg / D : 0;
    const mgx = sgx / D;
    for (let k = 0; k < D; k++) dx[o + k] = rs * (dY[o + k]! * W[k]! - mg - xh[k]! * mgx);
  }
  return { dx, dw, db };
}
