// Float64 SwiGLU: y = silu(a) ⊙ u with silu(a) = a·σ(a); backward
//   d a = dy ⊙ u ⊙ σ(a)(1 + a(1 − σ(a))),   d u = dy ⊙ silu(a).
const sigm = (a: number) => 1 / (1 + Math.exp(-a));

export function swigluRef(gate: ArrayLike<number>, up: ArrayLike<number>): Float64Array {
  const y = new Float64Array(gate.length);
  for (let i = 0; i < y.length; i++) y[i] = gate[i]! * sigm(gate[i]!) * up[i]!;
  return y;
}

export function swigluBwdRef(dy: ArrayLike<number>, gate: ArrayLike<number>, up: ArrayLike<number>): { dgate: Float64Array; dup: Float64Array } {
  const dgate = new Float64Array(gate.length);
  const dup = new Float64Array(gate.length);
  for (let i = 0; i < gate.length; i++) {
    const a = gate[i]!;
    const s = sigm(a);
    dgate[i] = dy[i]! * up[i]! * s * (1 + a * (1 - s));
    dup[i] = dy[i]! * a * s;
  }
  return { dgate, dup };
}
