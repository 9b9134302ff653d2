// WGSL expressions of the elementwise family, on vec4<f32> operands `a` (and `b`), with the scalar
// parameter `p.s`. Each has a float64 twin in engine/reference/elementwise.ts.
const SQRT_2_OVER_PI = '0.7978845608028654';

/** Helpers every elementwise kernel may call. */
export const PRELUDE = /* wgsl */ `
// a run-time NaN (a constant NaN is a WGSL compile error)
var<private> NAN_BITS: u32 = 0x7fc00000u;
fn sigm(x: vec4<f32>) -> vec4<f32> { return 1.0 / (1.0 + exp(-x)); }
// tanh as x·P(x²)/Q(x²) for |x| < 7.905 (where 1 − tanh is 2.7e-7) and exactly ±1 beyond (so
// gelu of a large negative x is 0, not x·1e-7): a least-squares fit of the relative error, within
// 3.3e-7 of float64 tanh over the whole line in f32 (tiny |x| included: P(0) = 1). The builtin tanh
// costs lavapipe ≈ 2× an exp per lane (gelu 16.1 ms for 16.8M floats against 13.3 with this form,
// the copy ceiling 13.1; 2026-12-03). NaN may become anything here (clamp): gelu and gelu_bwd keep
// NaN through their factor x.
fn tanh_s(x0: vec4<f32>) -> vec4<f32> {
  let x = clamp(x0, vec4<f32>(-7.90531110763549805), vec4<f32>(7.90531110763549805));
  let z = x * x;
  var p = fma(z, vec4<f32>(-1.190452603e-13), vec4<f32>(6.476391848e-11));
  p = fma(z, p, vec4<f32>(-2.251398205e-08));
  p = fma(z, p, vec4<f32>(1.168696543e-05));
  p = fma(z, p, vec4<f32>(3.153415590e-03));
  p = fma(z, p, vec4<f32>(1.312792677e-01));
  p = fma(z, p, vec4<f32>(9.999999985e-01));
  var q = fma(z, vec4<f32>(2.618986784e-04), vec4<f32>(2.469097179e-02));
  q = fma(z, q, vec4<f32>(4.646125850e-01));
  q = fma(z, q, vec4<f32>(1.0));
  return select(x * p / q, sign(x), abs(x0) >= vec4<f32>(7.90531110763549805));
}
fn gelu_inner(x: vec4<f32>) -> vec4<f32> { return ${SQRT_2_OVER_PI} * (x + 0.044715 * x * x * x); }
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
  gelu: '0.5 * a * (1.0 + tanh_s(gelu_inner(a)))',
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
  gelu_bwd:
    // d/dx 0.5x(1+tanh u) = 0.5(1+tanh u) + 0.5x(1-tanh²u)·u',  u' = √(2/π)(1 + 3·0.044715x²)
    `a * (0.5 * (1.0 + tanh_s(gelu_inner(b))) + 0.5 * b * (1.0 - tanh_s(gelu_inner(b)) * tanh_s(gelu_inner(b))) * ${SQRT_2_OVER_PI} * (1.0 + 0.134145 * b * b))`,
  pow_bwd: 'a * p.s * powi(b, p.s - 1.0)', // b = x
  lerp: 'a + p.s * (b - a)', // a moved a share s of the way to b (weight averaging)
};
