// WGSL expressions of the elementwise family, on vec4<f32> operands `a` (and `b`), with the scalar
// parameter `p.s`. Each has a float64 twin in engine/reference/elementwise.ts.
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Helpers every elementwise kernel may call. */
export const PRELUDE = /* wgsl */ `
// a run-time NaN (a constant NaN is a WGSL compile error)
var<private> NAN_BITS: u32 = 0x7fc00000u;
fn sigm(x: vec4<f32>) -> vec4<f32> { return 1.0 / (1.0 + exp(-x)); }
// gelu's tanh form through 1 + tanh u = 2σ(2u): gelu(x) = x / (1 + e^(−2u)), u = √(2/π)(x + 0.044715x³),
// one exp and one divide per value. On lavapipe it is compute-bound: 16.8M floats in 14.4 ms against
// 17.4 with a rational tanh fit (10 fma, clamp, select) and a copy's 10.2 (2026-12-06); the builtin tanh
// was slower still. No cancellation: where 1 + tanh u underflows (x ≪ 0) e^(−2u) is large and x / (1 + e)
// keeps its relative precision, and e = ∞ gives exactly 0 (gelu(−1e30) is 0, not x · 1e-7).
fn gelu_e(x: vec4<f32>) -> vec4<f32> {
  return exp(x * fma(x * x, vec4<f32>(${-2 * 0.044715 * SQRT_2_OVER_PI}), vec4<f32>(${-2 * SQRT_2_OVER_PI})));
}
// d/dx x·σ(2u) = s + x·s(1 − s)·2u', s = 1/(1 + e), 2u' = 2√(2/π)(1 + 3·0.044715x²); 1 − s as e·s
// where e < 1 (no cancellation as s → 1)
fn gelu_d(x: vec4<f32>) -> vec4<f32> {
  let e = gelu_e(x);
  let s = 1.0 / (1.0 + e);
  let t = select(1.0 - s, e * s, e < vec4<f32>(1.0));
  return s + x * s * t * fma(x * x, vec4<f32>(${2 * 3 * 0.044715 * SQRT_2_OVER_PI}), vec4<f32>(${2 * SQRT_2_OVER_PI}));
}
// x^e for a scalar exponent, defined for negative x when e is an integer (as Math.pow is)
fn powi(x: vec4<f32>, e: f32) -> vec4<f32> {
  let m = pow(abs(x), vec4<f32>(e));
  let ei = round(e);
  if (ei != e) { return select(m, vec4<f32>(bitcast<f32>(NAN_BITS)), x < vec4<f32>(0.0)); }
  let odd = (i32(ei) & 1) == 1;
  let s = select(vec4<f32>(1.0), sign(x), odd);
  return select(m * s, vec4<f32>(select(0.0, 1.0, e == 0.0)), x == vec4<f32>(0.0));
}
`;

export const UNARY: Record<string, string> = {
  copy: 'a',
  neg: '-a',
  exp: 'exp(a)',
  log: 'log(a)',
  sqrt: 'sqrt(a)',
  pow: 'powi(a, p.s)',
  relu: 'max(a, vec4<f32>(0.0))',
  gelu: 'a / (1.0 + gelu_e(a))',
  silu: 'a * sigm(a)',
  sigmoid: 'sigm(a)',
  mul_scalar: 'a * p.s',
  add_scalar: 'a + p.s',
};

// Binary ops; the *_bwd entries are backward rules with a = upstream gradient, b = saved tensor.
export const BINARY: Record<string, string> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  eq: 'select(vec4<f32>(0.0), vec4<f32>(1.0), a == b)',
  relu_bwd: 'select(vec4<f32>(0.0), a, b > vec4<f32>(0.0))',
  sqrt_bwd: '0.5 * a / b', // b = y = sqrt(x)
  sigmoid_bwd: 'a * b * (1.0 - b)', // b = y = sigmoid(x)
  silu_bwd: 'a * (sigm(b) * (1.0 + b * (1.0 - sigm(b))))', // b = x
  gelu_bwd: 'a * gelu_d(b)', // b = x
  pow_bwd: 'a * p.s * powi(b, p.s - 1.0)', // b = x
  lerp: 'a + p.s * (b - a)', // a moved a share s of the way to b (weight averaging)
};
