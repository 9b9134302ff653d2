// Creating tensors: from host arrays, constants, and seeded random values.
import { flush, launch, grid1d } from './runtime.ts';
import { bytesOf, empty, numel, setGpuAllocHook, Tensor, type Backend, type DType } from './tensor.ts';
import { f32ToF16, packF16, roundF16 } from './half.ts';
import { toF16Ref } from './reference/cast.ts';
import { upload } from './runtime.ts';
import { rng, type Rng } from './random.ts';
import { fillKernel } from '../kernels/elementwise/fill.ts';

export type HostData = ArrayLike<number>;

/** A tensor holding `data` (row-major) with the given shape. */
export function tensor(data: HostData, shape: readonly number[], opts: { dtype?: DType; backend?: Backend; requiresGrad?: boolean } = {}): Tensor {
  const dtype = opts.dtype ?? 'f32';
  const backend = opts.backend ?? 'gpu';
  const n = numel(shape);
  if (data.length !== n) throw new Error(`tensor: ${data.length} values for shape [${shape.join(', ')}] (needs ${n})`);
  const t = empty(shape, dtype, backend);
  if (backend === 'cpu') {
    const cpu = t.cpu as Float64Array;
    cpu.set(dtype === 'f16' ? toF16Ref(data) : (data as ArrayLike<number>));
  } else if (n > 0) {
    const host =
      dtype === 'f32' ? Float32Array.from(data) : dtype === 'f16' ? packF16(data) : dtype === 'i32' ? Int32Array.from(data) : Uint32Array.from(data);
    upload(t, host);
  }
  t.requiresGrad = opts.requiresGrad ?? false;
  return t;
}

/** A tensor filled with one value (one kernel on the GPU, no host upload). */
export function fill(shape: readonly number[], value: number, backend: Backend = 'gpu', dtype: DType = 'f32'): Tensor {
  const t = empty(shape, dtype, backend);
  if (backend === 'cpu') {
    (t.cpu as Float64Array).fill(dtype === 'f16' ? roundF16(value) : value);
    return t;
  }
  // the fill kernel writes 4 words (16 bytes) per invocation; an f16 word holds the value twice
  const n4 = Math.ceil(bytesOf(dtype, t.size) / 16);
  if (n4 === 0) return t;
  const bits = new DataView(new ArrayBuffer(4));
  if (dtype === 'f32') bits.setFloat32(0, value, true);
  else if (dtype === 'f16') bits.setUint32(0, f32ToF16(value) * 0x10001, true);
  else if (dtype === 'i32') bits.setInt32(0, value, true);
  else bits.setUint32(0, value, true);
  launch(fillKernel, [t], grid1d(Math.ceil(n4 / 256)), [n4, bits.getUint32(0, true)], 'fill');
  return t;
}

export const zeros = (shape: readonly number[], backend: Backend = 'gpu') => fill(shape, 0, backend);
export const ones = (shape: readonly number[], backend: Backend = 'gpu') => fill(shape, 1, backend);

export interface RandOpts {
  seed?: number;
  rng?: Rng;
  backend?: Backend;
  requiresGrad?: boolean;
}

let defaultRng = rng(1234);
/** Reseeds the engine's default host generator (used when no seed/rng is given). */
export function manualSeed(seed: number): void {
  defaultRng = rng(seed);
}

function gen(o: RandOpts): Rng {
  return o.rng ?? (o.seed !== undefined ? rng(o.seed) : defaultRng);
}

/** Normal(mean, std) values. */
export function randn(shape: readonly number[], o: RandOpts & { mean?: number; std?: number } = {}): Tensor {
  const r = gen(o);
  const n = numel(shape);
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = (o.mean ?? 0) + (o.std ?? 1) * r.normal();
  return tensor(a, shape, { backend: o.backend, requiresGrad: o.requiresGrad });
}

/** Uniform values in [lo, hi). */
export function rand(shape: readonly number[], o: RandOpts & { lo?: number; hi?: number } = {}): Tensor {
  const r = gen(o);
  const n = numel(shape);
  const lo = o.lo ?? 0;
  const hi = o.hi ?? 1;
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r.uniform();
  return tensor(a, shape, { backend: o.backend, requiresGrad: o.requiresGrad });
}

/** Moves (copies) a tensor to the other backend: gpu→cpu reads back (async), cpu→gpu uploads. */
export async function toBackend(t: Tensor, backend: Backend): Promise<Tensor> {
  if (t.backend === backend) return t;
  if (backend === 'gpu') return tensor(t.cpu as ArrayLike<number>, t.shape, { dtype: t.dtype });
  flush();
  const { read } = await import('./runtime.ts');
  const data = await read(t);
  return tensor(data, t.shape, { dtype: t.dtype, backend: 'cpu' });
}

/** Poison mode: every new GPU tensor starts as NaN (an op that leaves an element unwritten fails its test). */
export function setPoison(on: boolean): void {
  setGpuAllocHook(
    on
      ? (t) => {
          const n4 = Math.ceil(t.gpu!.bytes / 16);
          const nan = t.dtype === 'f16' ? 0x7e007e00 : 0x7fc00000; // a NaN in each f16 half
          launch(fillKernel, [t], grid1d(Math.ceil(n4 / 256)), [n4, nan], 'poison');
        }
      : null,
  );
}
