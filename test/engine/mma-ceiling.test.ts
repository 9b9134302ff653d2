// The matrix-unit ceiling kernel (kernels/ceiling/mma.ts): its exact expected values against a literal
// simulation of the loop, and, where the adapter has subgroup matrices (a GPU; not lavapipe), the
// kernel's every output against them for each operand source at iteration counts off the phase cycle.
import { describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { launch, readBuffer, sync } from '../../engine/runtime.ts';
import { MMA_PHASES, mmaCeiling, mmaExpected, mmaOperandLayout, mmaOperandValue, type MmaCeilingSpec } from '../../kernels/ceiling/mma.ts';
import { MMA_ROWS, mmaSpecs } from '../../bench/mma-ceiling.ts';

const CFG = { M: 16, N: 8, K: 16 };

/** The loop, step by step, in float64: phase k mod PHASES for in-loop loads, phase 0 once for 'reg'. */
function simulate(s: Pick<MmaCeilingSpec, 'source' | 'fm' | 'fn' | 'cfg'>, iters: number, i: number, j: number, m: number, n: number): number {
  const lay = mmaOperandLayout(s);
  let acc = 0;
  for (let k = 0; k < iters; k++) {
    const ph = s.source === 'reg' ? 0 : k % MMA_PHASES;
    for (let q = 0; q < s.cfg.K; q++) acc += mmaOperandValue(lay.left(ph, i) + m * s.cfg.K + q) * mmaOperandValue(lay.right(ph, j) + q * s.cfg.N + n);
  }
  return acc;
}

describe('matrix-unit ceiling: expected values', () => {
  it('equal the simulated loop for every source, off the phase cycle', () => {
    for (const source of ['reg', 'wg', 'global'] as const) {
      const s = { source, fm: 2, fn: 3, cfg: CFG };
      for (const iters of [0, 1, 2, 5, 8]) {
        for (const [i, j, m, n] of [[0, 0, 0, 0], [1, 2, 15, 7], [1, 0, 3, 5]] as const) {
          expect(mmaExpected(s, iters, i, j, m, n)).toBe(simulate(s, iters, i, j, m, n));
        }
      }
    }
  });

  it('operands differ between matrices and phases (no two result matrices alike)', () => {
    const s = { source: 'wg' as const, fm: 2, fn: 2, cfg: CFG };
    const results = new Set<string>();
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) results.add(Array.from({ length: 16 * 8 }, (_, e) => mmaExpected(s, 3, i, j, e >> 3, e & 7)).join());
    expect(results.size).toBe(4);
    const lay = mmaOperandLayout(s);
    const p0 = Array.from({ length: 256 }, (_, e) => mmaOperandValue(lay.left(0, 0) + e)).join();
    const p1 = Array.from({ length: 256 }, (_, e) => mmaOperandValue(lay.left(1, 0) + e)).join();
    expect(p0).not.toBe(p1);
  });

  it('each source keeps its loads where it says: in the loop for wg/global, before it for reg', () => {
    const syntax = { load: 'template', store: 'template', index: 'local' } as const;
    for (const source of ['reg', 'wg', 'global'] as const) {
      const code = mmaCeiling({ source, fm: 2, fn: 2, subgroups: 4, sg: 32, cfg: CFG, syntax }).code;
      const loop = code.indexOf('for (var k = 0u');
      const firstLoad = code.indexOf('subgroupMatrixLoad');
      expect(firstLoad > loop).toBe(source !== 'reg');
      expect(code.includes('var<workgroup>')).toBe(source === 'wg');
    }
  });
});

describe('matrix-unit ceiling on the adapter (where it lists subgroup matrices)', () => {
  for (const row of MMA_ROWS) {
    it(`${row.source} ${row.fm}x${row.fn}${row.builtin ? ' (subgroup_id)' : ''}: every output exact after 7 iterations`, async (ctx) => {
      const specs = mmaSpecs();
      if (specs.length === 0) ctx.skip();
      expect(specs.length).toBeGreaterThanOrEqual(MMA_ROWS.filter((r) => !r.builtin).length);
      const s = specs.find((x) => x.source === row.source && x.fm === row.fm && x.fn === row.fn && x.builtin === (row.builtin ?? false));
      if (!s) return ctx.skip(); // a subgroup_id row where the probe's spelling already uses it
      await E.precompile(mmaCeiling(s));
      const lay = mmaOperandLayout(s);
      const a = E.tensor(Float32Array.from({ length: lay.size }, (_, e) => mmaOperandValue(e)), [lay.size], { dtype: 'f16' });
      const wgs = 3;
      const frag = s.cfg.M * s.cfg.N;
      const frags = s.fm * s.fn;
      const len = wgs * s.subgroups * frags * frag;
      const y = E.empty([len]);
      launch(mmaCeiling(s), [a, y], [wgs, 1, 1], [7, 1], 'ceiling_mma');
      await sync();
      const got = new Float32Array(await readBuffer(y.gpu!.buffer, len * 4));
      for (let g = 0; g < wgs * s.subgroups; g++) {
        for (let f = 0; f < frags; f++) {
          for (let e = 0; e < frag; e++) {
            const want = mmaExpected(s, 7, Math.floor(f / s.fn), f % s.fn, Math.floor(e / s.cfg.N), e % s.cfg.N);
            if (got[(g * frags + f) * frag + e] !== want) throw new Error(`subgroup ${g} matrix ${f} element ${e}: ${got[(g * frags + f) * frag + e]} ≠ ${want}`);
          }
        }
      }
      a.dispose();
      y.dispose();
    });
  }
});
