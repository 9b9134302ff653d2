// Two levels of checking, as torch.autograd.gradcheck does for level (a):
//  (a) gradcheck: the backward rules, in float64 on the reference backend, against central finite
//      differences (eps 1e-6, atol 1e-5, rtol 1e-3). Never finite differences in f32. f16 outputs
//      are left unrounded here: a cast's gradient is defined as the identity (reference/cast.ts).
//  (b) gpucheck: the GPU kernels, forward and backward, against that float64 reference by relative
//      error ‖out − ref‖ / ‖ref‖.
// Both project the output onto a fixed random vector v (checking vᵀJ), which covers every input
// element with one backward pass.
import { backward, noGrad } from './autograd.ts';
import { tensor } from './create.ts';
import { rng } from './random.ts';
import { withF16Relaxed } from './reference/cast.ts';
import { read } from './runtime.ts';
import { scope, scopeAsync, unkeep } from './scope.ts';
import type { Tensor } from './tensor.ts';
import { isFloat, type DType } from './tensor.ts';

export interface CheckInput {
  shape: number[];
  data: ArrayLike<number>;
  dtype?: DType; // integer inputs (indices) are passed through and never differentiated
  requiresGrad?: boolean; // default: true for f32 and f16
}

export interface GradcheckOpts {
  eps?: number;
  atol?: number;
  rtol?: number;
  seed?: number;
}

export interface GradcheckResult {
  ok: boolean;
  maxAbsErr: number;
  worst: string; // where the largest violation was
}

function differentiable(inp: CheckInput): boolean {
  return isFloat(inp.dtype ?? 'f32') && inp.requiresGrad !== false;
}

function cpuInputs(inputs: CheckInput[], override?: { i: number; j: number; delta: number }): Tensor[] {
  return inputs.map((inp, i) => {
    const data = Float64Array.from(inp.data);
    if (override && override.i === i) data[override.j]! += override.delta;
    return tensor(data, inp.shape, { backend: 'cpu', dtype: inp.dtype, requiresGrad: differentiable(inp) });
  });
}

/** The fixed random vector v a check projects an output on (checking vᵀJ). */
export function projection(shape: readonly number[], seed: number): Float64Array {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = r.uniform() * 2 - 1;
  return v;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Checks fn's backward rules in float64 against central finite differences. Throws on failure. */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: CheckInput[], opts: GradcheckOpts = {}): GradcheckResult {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-3;
  return withF16Relaxed(() => scope(() => {
    const xs = cpuInputs(inputs);
    const y = fn(...xs);
    const v = projection(y.shape, opts.seed ?? 7);
    backward(y, tensor(v, y.shape, { backend: 'cpu' }));
    let maxAbsErr = 0;
    let worst = '';
    let ok = true;
    inputs.forEach((inp, i) => {
      if (!differentiable(inp)) return;
      const analytic = xs[i]!.grad ? (xs[i]!.grad!.cpu as Float64Array) : new Float64Array(inp.data.length);
      for (let j = 0; j < inp.data.length; j++) {
        const f = (delta: number) =>
          noGrad(() => scope(() => dot(fn(...cpuInputs(inputs, { i, j, delta })).cpu as Float64Array, v)));
        const numeric = (f(eps) - f(-eps)) / (2 * eps);
        const err = Math.abs(analytic[j]! - numeric);
        if (err > maxAbsErr) maxAbsErr = err;
        if (!(err <= atol + rtol * Math.abs(numeric))) {
          if (ok) worst = `input ${i} element ${j}: analytic ${analytic[j]} vs numeric ${numeric}`;
          ok = false;
        }
      }
    });
    for (const x of xs) if (x.grad) unkeep(x.grad);
    if (!ok) throw new Error(`gradcheck failed: ${worst} (max abs err ${maxAbsErr.toExponential(3)})`);
    return { ok, maxAbsErr, worst };
  }));
}

export function relErr(out: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (out.length !== ref.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = out[i]! - ref[i]!;
    num += d * d;
    den += ref[i]! * ref[i]!;
  }
  if (!Number.isFinite(num)) return Infinity;
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

export interface GpucheckOpts {
  fwdTol?: number; // relative error allowed on the output (1e-5 elementwise, 1e-4 reductions/matmul)
  bwdTol?: number; // relative error allowed on each input gradient
  seed?: number;
  backward?: boolean; // default true
}

export interface GpucheckResult {
  fwdErr: number;
  bwdErr: number[];
}

/** Runs fn on the GPU and on the float64 reference with the same inputs; compares outputs and gradients. */
export async function gpucheck(fn: (...xs: Tensor[]) => Tensor, inputs: CheckInput[], opts: GpucheckOpts = {}): Promise<GpucheckResult> {
  const fwdTol = opts.fwdTol ?? 1e-5;
  const bwdTol = opts.bwdTol ?? fwdTol;
  const doBwd = opts.backward ?? true;
  return scopeAsync(async () => {
    const ref = cpuInputs(inputs);
    const gpu = inputs.map((inp) =>
      tensor(inp.data, inp.shape, { dtype: inp.dtype, requiresGrad: doBwd && differentiable(inp) }),
    );
    const yr = doBwd ? fn(...ref) : noGrad(() => fn(...ref));
    const yg = doBwd ? fn(...gpu) : noGrad(() => fn(...gpu));
    if (yr.shape.join(',') !== yg.shape.join(',')) {
      throw new Error(`gpucheck: GPU output shape [${yg.shape}] != reference [${yr.shape}]`);
    }
    const fwdErr = relErr(await read(yg), yr.cpu as Float64Array);
    const bwdErr: number[] = [];
    if (doBwd && yr.requiresGrad) {
      const v = projection(yr.shape, opts.seed ?? 11);
      backward(yr, tensor(v, yr.shape, { backend: 'cpu' }));
      backward(yg, tensor(v, yg.shape));
      for (let i = 0; i < inputs.length; i++) {
        if (!differentiable(inputs[i]!)) continue;
        const gr = ref[i]!.grad;
        const gg = gpu[i]!.grad;
        if (!gr && !gg) {
          bwdErr.push(0);
          continue;
        }
        const rg = gr ? (gr.cpu as Float64Array) : new Float64Array(inputs[i]!.data.length);
        const og = gg ? await read(gg) : new Float32Array(inputs[i]!.data.length);
        bwdErr.push(relErr(og, rg));
      }
      for (const x of [...ref, ...gpu]) if (x.grad) unkeep(x.grad);
    }
    const fails: string[] = [];
    if (!(fwdErr <= fwdTol)) fails.push(`forward rel err ${fwdErr.toExponential(3)} > ${fwdTol}`);
    bwdErr.forEach((e, i) => {
      if (!(e <= bwdTol)) fails.push(`grad of input ${i} rel err ${e.toExponential(3)} > ${bwdTol}`);
    });
    if (fails.length) throw new Error(`gpucheck failed: ${fails.join('; ')}`);
    return { fwdErr, bwdErr };
  });
}
