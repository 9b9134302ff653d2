// Argument checks shared by the losses: they throw before any GPU work, naming the loss and shapes.
import { assertDtype, assertLive, assertSameBackend, type Tensor } from '../tensor.ts';

export const shapeOf = (t: Tensor) => `[${t.shape.join(', ')}]`;

export function expectShape(op: string, what: string, t: Tensor, shape: readonly number[]): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`${op}: ${what} must have shape [${shape.join(', ')}] but got ${shapeOf(t)}`);
  }
}

export function expectRank(op: string, what: string, t: Tensor, rank: number): void {
  if (t.rank !== rank) throw new Error(`${op}: ${what} must have rank ${rank} but got shape ${shapeOf(t)}`);
}

/** Live, same backend, and each tensor of the expected dtype. */
export function expectTensors(op: string, ts: [Tensor, 'f32' | 'i32'][]): void {
  assertLive(op, ...ts.map(([t]) => t));
  assertSameBackend(op, ...ts.map(([t]) => t));
  for (const [t, d] of ts) assertDtype(op, t, d);
}

export type Reduction = 'mean' | 'sum';

export function expectReduction(op: string, r: string, allowed: string[]): void {
  if (!allowed.includes(r)) throw new Error(`${op}: reduction '${r}' is not one of ${allowed.join(', ')}`);
}
