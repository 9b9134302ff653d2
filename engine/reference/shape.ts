// Float64 (and integer) references of the shape kernels in kernels/shape/. Arrays are row-major;
// `src`/`dst` are the typed arrays of the cpu backend (Float64Array, Int32Array or Uint32Array).
type Arr = { [i: number]: number; length: number };

/** dst = permute(src): out axis d is input axis dims[d]. */
export function permuteRef(src: Arr, shape: readonly number[], dims: readonly number[], dst: Arr): void {
  const r = shape.length;
  const inStride = new Array<number>(r);
  let acc = 1;
  for (let d = r - 1; d >= 0; d--) {
    inStride[d] = acc;
    acc *= shape[d]!;
  }
  const outShape = dims.map((d) => shape[d]!);
  const xs = dims.map((d) => inStride[d]!);
  for (let i = 0; i < dst.length; i++) {
    let rem = i;
    let s = 0;
    for (let d = r - 1; d >= 0; d--) {
      s += (rem % outShape[d]!) * xs[d]!;
      rem = Math.floor(rem / outShape[d]!);
    }
    dst[i] = src[s]!;
  }
}

/** dst[o, l, c] = src[o, start + l, c] with src [outer, len, inner], dst [outer, olen, inner]. */
export function sliceRef(src: Arr, outer: number, len: number, inner: number, start: number, olen: number, dst: Arr): void {
  for (let o = 0; o < outer; o++)
    for (let l = 0; l < olen; l++)
      for (let c = 0; c < inner; c++) dst[(o * olen + l) * inner + c] = src[(o * len + start + l) * inner + c]!;
}

/** Slice's adjoint: dst [outer, len, inner] is zero except the window [start, start + glen) = g. */
export function padRef(g: Arr, outer: number, len: number, inner: number, start: number, glen: number, dst: Arr): void {
  for (let o = 0; o < outer; o++)
    for (let l = 0; l < len; l++)
      for (let c = 0; c < inner; c++) {
        const inside = l >= start && l < start + glen;
        dst[(o * len + l) * inner + c] = inside ? g[(o * glen + l - start) * inner + c]! : 0;
      }
}

/** Writes src [outer, len, inner] into dst [outer, tlen, inner] at axis offset `off` (one concat input). */
export function placeRef(src: Arr, outer: number, len: number, inner: number, tlen: number, off: number, dst: Arr): void {
  for (let o = 0; o < outer; o++)
    for (let l = 0; l < len; l++)
      for (let c = 0; c < inner; c++) dst[(o * tlen + off + l) * inner + c] = src[(o * len + l) * inner + c]!;
}
