// Float64 twins of kernels/elementwise/exprs.ts: the reference that GPU results are checked against.
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const sigm = (x: number) => 1 / (1 + Math.exp(-x));
const tanhS = (x: number) => Math.tanh(x);
const geluInner = (x: number) => SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);

export const UNARY_REF: Record<string, (a: number, s: number) => number> = {
  copy: (a) => a,
  neg: (a) => -a,
  exp: (a) => Math.exp(a),
  log: (a) => Math.log(a),
  sqrt: (a) => Math.sqrt(a),
  pow: (a, s) => Math.pow(a, s),
  relu: (a) => (a > 0 ? a : 0),
  gelu: (a) => 0.5 * a * (1 + tanhS(geluInner(a))),
  silu: (a) => a * sigm(a),
  sigmoid: (a) => sigm(a),
  mul_scalar: (a, s) => a * s,
  add_scalar: (a, s) => a + s,
};

export const BINARY_REF: Record<string, (a: number, b: number, s: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  eq: (a, b) => (a === b ? 1 : 0),
  relu_bwd: (g, x) => (x > 0 ? g : 0),
  sqrt_bwd: (g, y) => (0.5 * g) / y,
  sigmoid_bwd: (g, y) => g * y * (1 - y),
  silu_bwd: (g, x) => g * (sigm(x) * (1 + x * (1 - sigm(x)))),
  gelu_bwd: (g, x) => {
    const t = tanhS(geluInner(x));
    return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x));
  },
  pow_bwd: (g, x, s) => g * s * Math.pow(x, s - 1),
  lerp: (a, b, s) => a + s * (b - a),
};
