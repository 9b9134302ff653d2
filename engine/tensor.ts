// Tensors: a shape, a dtype, and storage either on the GPU (f32/f16/i32/u32 buffers from the pool) or
// on the CPU in float64 (the reference backend that every kernel is checked against; f16 tensors
// there hold float64 values already rounded to f16).
import { allocBuffer, releaseBuffer, type PooledBuffer } from './pool.ts';
import { trackTensor } from './scope.ts';

export type DType = 'f32' | 'f16' | 'i32' | 'u32';
export type Backend = 'gpu' | 'cpu';
export type CpuData = Float64Array | Int32Array | Uint32Array;

export interface GradNode {
  op: string;
  inputs: Tensor[];
  /**
   * Returns one gradient per input (null where an input needs none). Runs with grad recording off.
   * `into[j]`, where given, is input j's gradient so far (f32, its storage not shared): a rule may
   * add its gradient into it in place, bit for bit as add(into[j], gradient) would, and return
   * into[j] itself; autograd then adds nothing. `release()` frees g at once where the tape owns it
   * (a no-op for the caller's gradient): a rule calls it when it no longer reads g — after casting it,
   * say — so that g's storage is free for the rule's own temporaries; such a rule never returns g.
   */
  backward: (g: Tensor, into?: readonly (Tensor | null)[], release?: () => void) => (Tensor | null)[];
  /** Intermediates the rule holds in its closure for the backward (not inputs), where they are large: savedTensors lists them. */
  held?: readonly Tensor[];
}

let nextId = 1;

export class Tensor {
  readonly id = nextId++;
  requiresGrad = false;
  grad: Tensor | null = null;
  node: GradNode | null = null;
  disposed = false;
  name?: string;

  constructor(
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly backend: Backend,
    public gpu: PooledBuffer | null,
    public cpu: CpuData | null,
  ) {
    trackTensor(this);
  }

  get size(): number {
    return numel(this.shape);
  }
  get rank(): number {
    return this.shape.length;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.gpu) releaseBuffer(this.gpu);
    this.gpu = null;
    this.cpu = null;
    this.node = null;
    if (this.grad && !this.grad.disposed) this.grad.dispose();
    this.grad = null;
  }

  toString(): string {
    return `Tensor#${this.id}(${this.dtype}[${this.shape.join(',')}] on ${this.backend}${this.name ? ` "${this.name}"` : ''})`;
  }
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Bytes of one element on the GPU. */
export function dtypeBytes(dtype: DType): number {
  return dtype === 'f16' ? 2 : 4;
}

/** GPU bytes of n elements, rounded up to whole 4-byte words: buffers are copied and written in words. */
export function bytesOf(dtype: DType, n: number): number {
  return Math.ceil((n * dtypeBytes(dtype)) / 4) * 4;
}

/** Whether a dtype holds floating-point values (the ones gradients flow through). */
export function isFloat(dtype: DType): boolean {
  return dtype === 'f32' || dtype === 'f16';
}

export function checkShape(op: string, shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`${op}: invalid shape [${shape.join(', ')}]`);
  }
}

/** A tensor of another shape over the same storage (no copy). Caller checks sizes. */
export function view(t: Tensor, shape: readonly number[]): Tensor {
  if (t.gpu) t.gpu.refs++;
  return new Tensor([...shape], t.dtype, t.backend, t.gpu, t.cpu);
}

let onGpuAlloc: ((t: Tensor) => void) | null = null;
/** Installs a hook run on every new GPU tensor (tests use it to poison fresh outputs with NaN). */
export function setGpuAllocHook(h: ((t: Tensor) => void) | null): void {
  onGpuAlloc = h;
}

/** Allocates an uninitialised tensor (used by ops for outputs). */
export function empty(shape: readonly number[], dtype: DType = 'f32', backend: Backend = 'gpu'): Tensor {
  checkShape('empty', shape);
  const n = numel(shape);
  if (backend === 'gpu') {
    const t = new Tensor([...shape], dtype, 'gpu', allocBuffer(Math.max(16, bytesOf(dtype, n))), null);
    if (onGpuAlloc) onGpuAlloc(t);
    return t;
  }
  const data = isFloat(dtype) ? new Float64Array(n) : dtype === 'i32' ? new Int32Array(n) : new Uint32Array(n);
  if (isFloat(dtype)) data.fill(NaN); // unwritten reference outputs show up as NaN too
  return new Tensor([...shape], dtype, 'cpu', null, data);
}

export function assertLive(op: string, ...ts: Tensor[]): void {
  for (const t of ts) {
    if (t.disposed) throw new Error(`${op}: use of disposed tensor ${t}`);
  }
}

export function assertSameBackend(op: string, ...ts: Tensor[]): Backend {
  const b = ts[0]!.backend;
  for (const t of ts) {
    if (t.backend !== b) throw new Error(`${op}: tensors on different backends (${ts.map(String).join(', ')})`);
  }
  return b;
}

export function assertDtype(op: string, t: Tensor, ...allowed: DType[]): void {
  if (!allowed.includes(t.dtype)) throw new Error(`${op}: expected dtype ${allowed.join('|')} but got ${t}`);
}
