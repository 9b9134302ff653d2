import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { asRows, coalesceAxes } from '../../engine/ops/coalesce.ts';

/** Contiguous strides of `shape`, with 0 on the axes in `bcast` (a broadcast operand). */
function strides(shape: number[], bcast: boolean[]): number[] {
  const st = new Array<number>(shape.length).fill(0);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    st[d] = bcast[d] ? 0 : acc;
    if (!bcast[d]) acc *= shape[d]!;
  }
  return st;
}

/** Every operand's offset of every element, in row-major order of `shape`. */
function offsets(shape: number[], st: number[][]): number[][] {
  const n = shape.reduce((a, b) => a * b, 1);
  return st.map((s) =>
    Array.from({ length: n }, (_, i) => {
      let rem = i;
      let off = 0;
      for (let d = shape.length - 1; d >= 0; d--) {
        off += (rem % shape[d]!) * s[d]!;
        rem = Math.floor(rem / shape[d]!);
      }
      return off;
    }),
  );
}

const operands = fc
  .array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 5 })
  .chain((shape) => fc.tuple(fc.constant(shape), fc.array(fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }), { minLength: 1, maxLength: 3 })));

describe('coalesceAxes', () => {
  it('addresses every element of every operand as the original axes do (fast-check)', () => {
    fc.assert(
      fc.property(operands, ([shape, bcasts]) => {
        const st = bcasts.map((b) => strides(shape, b));
        const c = coalesceAxes(shape, st);
        expect(c.shape.reduce((a, b) => a * b, 1)).toBe(shape.reduce((a, b) => a * b, 1));
        expect(c.shape.every((n) => n > 1)).toBe(true);
        expect(offsets(c.shape, c.strides)).toEqual(offsets(shape, st));
        const rows = asRows(shape, st);
        if (c.shape.length <= 2) expect(offsets([rows!.R, rows!.W], rows!.st)).toEqual(offsets(shape, st));
        else expect(rows).toBeNull();
      }),
      { numRuns: 300 },
    );
  });
  it('merges what can merge and nothing else', () => {
    // [M, 1] against [M, N]: two axes; same shapes: one; [1, N] mask on [M, N] with [M, 1] cond: two
    expect(coalesceAxes([4, 6], [[1, 0], [6, 1]]).shape).toEqual([4, 6]);
    expect(coalesceAxes([2, 3, 4], [[12, 4, 1], [12, 4, 1]]).shape).toEqual([24]);
    expect(coalesceAxes([3, 1, 5], [[5, 0, 1], [0, 0, 1]]).shape).toEqual([3, 5]);
    expect(coalesceAxes([3, 4, 5], [[5, 0, 1], [20, 5, 1]]).shape).toEqual([3, 4, 5]);
  });
});
