import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { gpucheck, gradcheck } from '../../engine/index.ts';
import { input, positive, rng } from '../util.ts';

const r = rng(42);
const shapes: [number[], number[]][] = [
  [[7, 13], [7, 13]], // same shape, not a multiple of 4
  [[5, 12], [12]], // bias-like suffix, vec4 path
  [[5, 7], [7]], // suffix, not divisible by 4: strided path
  [[3, 1, 6], [1, 4, 1]], // two-sided broadcast
  [[9], []], // scalar
  [[2, 3, 4], [3, 1]], // middle broadcast
  [[1], [6, 5]], // size-1 left operand
];

describe('binary elementwise ops', () => {
  for (const op of ['add', 'sub', 'mul', 'div'] as const) {
    for (const [sa, sb] of shapes) {
      const f = (a: E.Tensor, b: E.Tensor) => E[op](a, b);
      it(`${op} [${sa}] ∘ [${sb}]: gradcheck in float64`, () => {
        const b = op === 'div' ? positive(r, sb) : input(r, sb);
        expect(gradcheck(f, [input(r, sa), b]).ok).toBe(true);
      });
      it(`${op} [${sa}] ∘ [${sb}]: GPU forward and backward match the reference`, async () => {
        const b = op === 'div' ? positive(r, sb) : input(r, sb);
        const res = await gpucheck(f, [input(r, sa), b], { fwdTol: 1e-5, bwdTol: 1e-5 });
        expect(res.fwdErr).toBeLessThan(1e-5);
      });
    }
  }
  it('rejects shapes that do not broadcast, naming the op and the shapes', () => {
    const a = E.tensor([1, 2, 3], [3]);
    const b = E.tensor([1, 2], [2]);
    expect(() => E.add(a, b)).toThrow(/add: shapes \[3\] and \[2\] do not broadcast/);
    a.dispose();
    expect(() => E.mul(a, b)).toThrow(/mul: use of disposed tensor/);
    b.dispose();
  });
});

describe('unary elementwise ops', () => {
  const cases: [string, (x: E.Tensor) => E.Tensor, boolean][] = [
    ['neg', E.neg, false],
    ['exp', E.exp, false],
    ['log', E.log, true],
    ['sqrt', E.sqrt, true],
    ['pow 3', (x) => E.pow(x, 3), false],
    ['pow 2.5', (x) => E.pow(x, 2.5), true],
    ['relu', E.relu, false],
    ['gelu', E.gelu, false],
    ['silu', E.silu, false],
    ['sigmoid', E.sigmoid, false],
    ['mulScalar', (x) => E.mulScalar(x, -1.7), false],
    ['addScalar', (x) => E.addScalar(x, 0.3), false],
  ];
  for (const [name, f, pos] of cases) {
    for (const shape of [[1], [3, 37], [1029]]) {
      it(`${name} [${shape}]`, async () => {
        const mk = () => (pos ? positive(r, shape) : input(r, shape, 0.1, 3));
        expect(gradcheck(f, [mk()]).ok).toBe(true);
        await gpucheck(f, [mk()], { fwdTol: 1e-5, bwdTol: 1e-5 });
      });
    }
  }
});
