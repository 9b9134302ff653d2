// Float64 references of kernels/softmax/rows.ts over rows of length `len` (forward and fused backward).
export type SoftmaxKind = 'softmax' | 'logsoftmax';
type Arr = { [i: number]: number; length: number };

/** y = softmax(x) = exp(x − m)/Σexp(x − m), or log-softmax y = x − m − log Σexp(x − m), per row. */
export function softmaxRef(kind: SoftmaxKind, x: Arr, len: number, y: Arr): void {
  for (let base = 0; base < x.length; base += len) {
    let m = -Infinity;
    for (let k = 0; k < len; k++) m = Math.max(m, x[base + k]!);
    let s = 0;
    for (let k = 0; k < len; k++) s += Math.exp(x[base + k]! - m);
    for (let k = 0; k < len; k++) {
      y[base + k] = kind === 'softmax' ? Math.exp(x[base + k]! - m) / s : x[base + k]! - m - Math.log(s);
    }
  }
}

/** softmax: dx = y ⊙ (g − Σ g⊙y); log-softmax (y = log-probs): dx = g − exp(y) · Σ g. */
export function softmaxBackwardRef(kind: SoftmaxKind, y: Arr, g: Arr, len: number, dx: Arr): void {
  for (let base = 0; base < y.length; base += len) {
    let s = 0;
    for (let k = 0; k < len; k++) s += kind === 'softmax' ? g[base + k]! * y[base + k]! : g[base + k]!;
    for (let k = 0; k < len; k++) {
      dx[base + k] = kind === 'softmax' ? y[base + k]! * (g[base + k]! - s) : g[base + k]! - Math.exp(y[base + k]!) * s;
    }
  }
}
