// `--kernel` takes kernel names and suite names; a suite stands for its kernels (peers included).
import { expect, it } from 'vitest';
import { selectKernels } from '../../bench/select.ts';

const suites = [
  { name: 'elementwise', kernels: ['add', 'mul', 'gelu'] },
  { name: 'norm', kernels: ['rmsnorm_fwd', 'rmsnorm_bwd'] },
  { name: 'where', kernels: ['where', 'maskedFill'] },
  { name: 'tfjs-webgpu', kernels: ['matmul', 'add'] },
  { name: 'jax-js-webgpu', kernels: null },
];

it('expands a suite name to the kernels its cases measure', () => {
  const s = selectKernels('elementwise,norm', suites);
  expect([...s.kernels].sort()).toEqual(['add', 'gelu', 'mul', 'rmsnorm_bwd', 'rmsnorm_fwd']);
  expect(s.unavailable).toEqual([]);
});

it('keeps kernel names, and a name that is both suite and kernel selects the suite', () => {
  expect([...selectKernels('matmul, maskedFill', suites).kernels].sort()).toEqual(['maskedFill', 'matmul']);
  expect([...selectKernels('where', suites).kernels].sort()).toEqual(['maskedFill', 'where']);
});

it('refuses a name that is neither, naming what exists', () => {
  expect(() => selectKernels('elementwize', suites)).toThrow(/"elementwize" is neither a suite \(elementwise, norm.*\) nor a kernel of one \(add, gelu/);
  expect(() => selectKernels(' , ', suites)).toThrow(/at least one/);
});

it('reports a suite that failed to load instead of refusing its name', () => {
  const s = selectKernels('jax', suites);
  expect(s.kernels.size).toBe(0);
  expect(s.unavailable).toEqual(['jax-js-webgpu']);
});
