// Axis coalescing for broadcast ops (PyTorch's TensorIterator does the same): size-1 axes go, and
// neighbouring axes merge where every operand steps over the pair as over one axis
// (stride[d] = stride[d+1]·shape[d+1], broadcast strides 0 = 0·n included). A broadcast that
// coalesces into at most two axes is R rows of W elements, which the row kernels index without
// dividing per element.

/** Rows shorter than this run the rank-walking kernels: a row kernel's workgroup spans ≥ 64 lanes. */
export const ROWS_MIN_W = 32;

export interface Coalesced {
  shape: number[];
  /** strides[k][d]: operand k's stride along coalesced axis d */
  strides: number[][];
}

export function coalesceAxes(shape: readonly number[], strides: readonly (readonly number[])[]): Coalesced {
  const keep = shape.map((_, d) => d).filter((d) => shape[d] !== 1);
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (const d of keep) {
    const last = outShape.length - 1;
    const n = shape[d]!;
    if (last >= 0 && strides.every((st, k) => outStrides[k]![last] === st[d]! * n)) {
      outShape[last] = outShape[last]! * n;
      strides.forEach((st, k) => (outStrides[k]![last] = st[d]!));
    } else {
      outShape.push(n);
      strides.forEach((st, k) => outStrides[k]!.push(st[d]!));
    }
  }
  return { shape: outShape, strides: outStrides };
}

/** [R, W] and each operand's [row stride, column stride] when the axes coalesce into ≤ 2, else null. */
export function asRows(shape: readonly number[], strides: readonly (readonly number[])[]): { R: number; W: number; st: [number, number][] } | null {
  const c = coalesceAxes(shape, strides);
  if (c.shape.length > 2) return null;
  if (c.shape.length === 2) return { R: c.shape[0]!, W: c.shape[1]!, st: c.strides.map((s) => [s[0]!, s[1]!]) };
  if (c.shape.length === 1) return { R: 1, W: c.shape[0]!, st: c.strides.map((s) => [0, s[0]!]) };
  return { R: 1, W: 1, st: c.strides.map(() => [0, 0]) };
}
