// Float64 batched matmul: C[b] = op(A[b]) · op(B[b]); sA/sB = 0 broadcasts an operand over batches.
export function matmulRef(
  A: ArrayLike<number>,
  B: ArrayLike<number>,
  batch: number,
  M: number,
  N: number,
  K: number,
  transA: boolean,
  transB: boolean,
  sA: number,
  sB: number,
): Float64Array {
  const C = new Float64Array(batch * M * N);
  for (let b = 0; b < batch; b++)
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let acc = 0;
        for (let k = 0; k < K; k++) {
          const a = transA ? A[b * sA + k * M + m]! : A[b * sA + m * K + k]!;
          const bb = transB ? B[b * sB + n * K + k]! : B[b * sB + k * N + n]!;
          acc += a * bb;
        }
        C[(b * M + m) * N + n] = acc;
      }
  return C;
}
