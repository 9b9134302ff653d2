// Float64 reference of kernels/where/select.ts: y = cond ≠ 0 ? a : b, with broadcast strides
// (0 on broadcast axes) for each operand over the output shape.
type Arr = { [i: number]: number; length: number };

export function whereRef(
  cond: Arr,
  a: Arr,
  b: Arr,
  shape: readonly number[],
  sc: readonly number[],
  sa: readonly number[],
  sb: readonly number[],
  dst: Arr,
): void {
  const r = shape.length;
  for (let i = 0; i < dst.length; i++) {
    let rem = i;
    let ic = 0;
    let ia = 0;
    let ib = 0;
    for (let d = r - 1; d >= 0; d--) {
      const c = rem % shape[d]!;
      rem = Math.floor(rem / shape[d]!);
      ic += c * sc[d]!;
      ia += c * sa[d]!;
      ib += c * sb[d]!;
    }
    dst[i] = cond[ic] !== 0 ? a[ia]! : b[ib]!;
  }
}
