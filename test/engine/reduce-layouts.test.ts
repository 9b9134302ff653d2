// Every reduction layout of engine/ops/reduce.ts, forced, against float64: rows (inner = 1) and
// columns (inner > 1) of odd lengths, one launch and the two-launch chunked path, max's NaN and −∞.
// Also gelu's sigmoid form, over the whole line.
import { afterEach, describe, expect, it } from 'vitest';
import * as E from '../../engine/index.ts';
import { gpucheck } from '../../engine/index.ts';
import { REDUCE_COL_SEG, REDUCE_SHORT_SEG_MIN, columnChunkCount, reduceChunks, reduceLayoutFor, setReduceLayout, type ReduceLayout } from '../../engine/ops/reduce.ts';
import { subgroupKernelsUsable } from '../../engine/kernel-family.ts';
import { gpuSync } from '../../engine/device.ts';
import { RED_ROWS_WG } from '../../kernels/reduce/rows-vec4.ts';
import { input, rng } from '../util.ts';

await E.initEngine(); // the subgroup layout depends on the adapter
const r = rng(2026);
afterEach(() => setReduceLayout(null));

const KINDS = ['sum', 'mean', 'max'] as const;

/** Random values in ±[lo, hi], rounded to f32 (so max is exact against float64). */
function data(shape: number[], lo = 0.1, hi = 1): Float64Array {
  return Float64Array.from(input(r, shape, lo, hi).data, (v) => Math.fround(v));
}

/** float64 reduction of `data` viewed as [outer, len, inner] over len. */
function ref(kind: (typeof KINDS)[number], data: Float64Array, outer: number, len: number, inner: number): Float64Array {
  const y = new Float64Array(outer * inner);
  for (let a = 0; a < outer; a++)
    for (let c = 0; c < inner; c++) {
      let acc = kind === 'max' ? -Infinity : 0;
      for (let k = 0; k < len; k++) {
        const v = data[(a * len + k) * inner + c]!;
        acc = kind === 'max' ? Math.max(acc, v) : acc + v;
      }
      y[a * inner + c] = kind === 'mean' ? acc / len : acc;
    }
  return y;
}

async function gpuReduce(kind: (typeof KINDS)[number], data: Float64Array, shape: number[], axis: number): Promise<number[]> {
  const x = E.tensor(data, shape);
  const y = E[kind](x, axis);
  const out = (await E.toArray(y));
  x.dispose();
  y.dispose();
  return out;
}

function expectClose(got: ArrayLike<number>, want: Float64Array, tol: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  let scale = 0;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!) / Math.max(scale, 1e-30);
    if (!(err <= tol)) throw new Error(`${what}: element ${i} is ${got[i]}, float64 ${want[i]} (error ${err} of the largest |y| > ${tol})`);
  }
}

const ROW_LAYOUTS: ReduceLayout[] = ['thread-vec4', 'workgroup', 'thread', ...(subgroupKernelsUsable(RED_ROWS_WG) ? (['subgroup'] as const) : [])];
// [outer, len]: len 1–3 (no vec4 interior), not a multiple of 4, long rows, one long row
const ROW_SHAPES: [number, number][] = [[3, 1], [5, 3], [4, 7], [6, 13], [3, 130], [2, 1029], [1, 4099], [65, 33]];

describe('row reductions (inner = 1), every layout forced', () => {
  for (const layout of ROW_LAYOUTS)
    for (const chunks of [null, 3]) {
      if (chunks !== null && (layout === 'workgroup' || layout === 'thread')) continue; // no chunked form
      it(`${layout}${chunks ? `, ${chunks} chunks (two launches)` : ''}: sum, mean, max of odd rows against float64`, async () => {
        setReduceLayout(layout, chunks);
        for (const [outer, len] of ROW_SHAPES) {
          expect(reduceLayoutFor(len, 1)).toBe(layout);
          const inp = data([outer, len], 0.1, 3);
          for (const kind of KINDS) {
            const got = await gpuReduce(kind, inp, [outer, len], 1);
            expectClose(got, ref(kind, inp, outer, len, 1), kind === 'max' ? 0 : 2e-6, `${kind} ${layout} [${outer}, ${len}]`);
          }
        }
      });
    }
  it('max propagates NaN from the vec4 interior and from the ends, and a row of −∞ gives −∞', async () => {
    for (const layout of ROW_LAYOUTS)
      for (const chunks of layout === 'workgroup' || layout === 'thread' ? [null] : [null, 2]) {
        setReduceLayout(layout, chunks);
        const len = 23; // ends of 1–3 floats around the interior, whatever the row's offset
        const rows = 6;
        const d = data([rows, len]);
        d[0 * len + 0] = NaN; // row 0: first float (an end)
        d[1 * len + 12] = NaN; // row 1: interior
        d[2 * len + 22] = NaN; // row 2: last float (an end)
        for (let k = 0; k < len; k++) d[3 * len + k] = -Infinity; // row 3
        d[4 * len + 5] = Infinity; // row 4
        const got = await gpuReduce('max', d, [rows, len], 1);
        const want = ref('max', d, rows, len, 1);
        for (let i = 0; i < rows; i++) expect(Object.is(got[i], Math.fround(want[i]!)) || (Number.isNaN(got[i]) && Number.isNaN(want[i])), `${layout}/${chunks} row ${i}: ${got[i]} vs ${want[i]}`).toBe(true);
      }
  });
  it('backward through every layout matches float64 (max: the arg-max gets the gradient)', async () => {
    for (const layout of ROW_LAYOUTS) {
      setReduceLayout(layout, layout === 'thread-vec4' || layout === 'subgroup' ? 2 : null);
      for (const kind of KINDS) await gpucheck((x) => E[kind](x, -1), [input(r, [5, 37])], { fwdTol: 1e-5, bwdTol: 1e-5 });
    }
  });
});

const COL_LAYOUTS: ReduceLayout[] = ['chunks', 'chunks-wide', 'chunks-lines', 'strided'];
// [outer, len, inner]: inner not a multiple of 4 (scalar columns), a multiple (vec4 columns), tiny
const COL_SHAPES: [number, number, number][] = [[5, 7, 3], [3, 9, 8], [2, 300, 12], [1, 1029, 4], [4, 2, 5], [1, 67, 1028], [2, 33, 531]];

describe('column reductions (inner > 1), every layout forced', () => {
  for (const layout of COL_LAYOUTS)
    for (const chunks of layout === 'strided' ? [null] : [null, 4]) {
      it(`${layout}${chunks ? `, ${chunks} chunks (two launches)` : ''}: sum, mean, max over the middle axis against float64`, async () => {
        setReduceLayout(layout, chunks);
        for (const [outer, len, inner] of COL_SHAPES) {
          expect(reduceLayoutFor(len, inner)).toBe(layout);
          const inp = data([outer, len, inner], 0.1, 3);
          for (const kind of KINDS) {
            const got = await gpuReduce(kind, inp, [outer, len, inner], 1);
            expectClose(got, ref(kind, inp, outer, len, inner), kind === 'max' ? 0 : 2e-6, `${kind} ${layout} [${outer}, ${len}, ${inner}]`);
          }
        }
      });
    }
  it('chunks-wide gives the bits of chunks at the same chunk count (the same order per column)', async () => {
    // odd and wide shapes, scalar and vec4 columns, one and several chunks (the fixed rule splits the short axis-0 counts)
    const shapes: [number, number, number][] = [[1, 4099, 1028], [2, 301, 530], [1, 67, 4096], [3, 64, 8], [1, 4096, 64]];
    for (const [outer, len, inner] of shapes) {
      const inp = data([outer, len, inner], 0.1, 3);
      for (const kind of KINDS)
        for (const chunks of [1, 3, 7]) {
          setReduceLayout('chunks', chunks);
          const a = await gpuReduce(kind, inp, [outer, len, inner], 1);
          setReduceLayout('chunks-wide', chunks);
          const b = await gpuReduce(kind, inp, [outer, len, inner], 1);
          const what = `${kind} [${outer}, ${len}, ${inner}] chunks ${chunks}`;
          expect(b.length, what).toBe(a.length);
          for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) throw new Error(`${what}: element ${i} is ${b[i]}, chunks gives ${a[i]}`);
        }
    }
  });
  it('max over columns propagates NaN and keeps −∞', async () => {
    for (const [layout, chunks] of [['chunks', null], ['chunks', 3], ['chunks-wide', null], ['chunks-wide', 3], ['chunks-lines', null], ['chunks-lines', 3], ['strided', null]] as const) {
      setReduceLayout(layout, chunks);
      const [len, inner] = [10, 8];
      const d = data([len, inner]);
      d[4 * inner + 1] = NaN;
      d[9 * inner + 6] = NaN;
      for (let k = 0; k < len; k++) d[k * inner + 3] = -Infinity;
      const got = await gpuReduce('max', d, [len, inner], 0);
      const want = ref('max', d, 1, len, inner);
      for (let i = 0; i < inner; i++) expect(Object.is(got[i], Math.fround(want[i]!)) || (Number.isNaN(got[i]) && Number.isNaN(want[i])), `${layout}/${chunks} column ${i}: ${got[i]} vs ${want[i]}`).toBe(true);
    }
  });
});

describe('the fixed rule', () => {
  it('splits an axis only when the unsplit work is short of the target, never below the minimum segment', () => {
    expect(reduceChunks(5000, 1 << 20, 4096, 4096)).toBe(1);
    expect(reduceChunks(1, 1 << 20, 4096, 4096)).toBe(256); // 2^20 / 4096 segments at most
    expect(reduceChunks(1, 100_000, 4096, 4096)).toBe(24);
    expect(reduceChunks(64, 100, 4096, 64)).toBe(1);
    expect(reduceChunks(256, 1024, 4096, 64)).toBe(16);
  });
  it('sumAll of a long vector runs chunked by default and matches float64', async () => {
    const n = 300_001;
    const inp = data([n]);
    const x = E.tensor(inp, [n]);
    const y = E.sumAll(x);
    const got = (await E.toArray(y))[0]!;
    let want = 0;
    for (const v of inp) want += v;
    let mag = 0;
    for (const v of inp) mag += Math.abs(v);
    expect(Math.abs(got - want) / mag).toBeLessThan(1e-6);
    x.dispose();
    y.dispose();
  });
  it('columns: chunks, in 32-row segments on CPU adapters from 4M elements (chunks-lines for vec4 columns); the default sums a large matrix over its rows as float64 does', async () => {
    setReduceLayout(null);
    const soft = gpuSync().info.isSoftware;
    expect(reduceLayoutFor(300, 1028)).toBe('chunks');
    expect(reduceLayoutFor(300, 4096)).toBe('chunks');
    expect(reduceLayoutFor(4096, 1024)).toBe(soft ? 'chunks-lines' : 'chunks');
    expect(reduceLayoutFor(1025, 4099)).toBe('chunks'); // scalar columns
    expect(reduceLayoutFor(1023, 4096)).toBe('chunks'); // one row short of 4M elements
    expect(reduceLayoutFor(1023, 4096, 2)).toBe(soft ? 'chunks-lines' : 'chunks');
    // [1, 4096, 4096]: 1024 vec4 columns; below the threshold the old rule (256 vec4 columns → 16 chunks)
    expect(columnChunkCount(1, 4096, 4096, 1024)).toBe(soft ? 4096 / REDUCE_COL_SEG : 1);
    expect(columnChunkCount(1, 4095, 1024, 256)).toBe(reduceChunks(256, 4095, soft ? 4096 : 65536, 64));
    expect(columnChunkCount(2, 1025, REDUCE_SHORT_SEG_MIN / 2048, 256)).toBe(soft ? Math.ceil(1025 / REDUCE_COL_SEG) : reduceChunks(512, 1025, 65536, 64));
    // ≥ 4M elements: 33 segments (the last one row) of scalar columns, 33 of vec4 columns (the last 7
    // rows), 32 whose last block of 8 vec4 columns holds one
    for (const [len, inner] of [[1025, 4099], [1031, 4096], [1024, 4100]] as const) {
      const inp = data([len, inner], 0.1, 3);
      for (const kind of KINDS) expectClose(await gpuReduce(kind, inp, [len, inner], 0), ref(kind, inp, 1, len, inner), kind === 'max' ? 0 : 2e-6, `default ${kind} columns [${len}, ${inner}]`);
    }
  });

  it('rejects a forced subgroup layout where the adapter has no usable subgroup size', () => {
    if (subgroupKernelsUsable(RED_ROWS_WG)) return expect(() => setReduceLayout('subgroup')).not.toThrow();
    expect(() => setReduceLayout('subgroup')).toThrow(/setReduceLayout: the adapter has no fixed subgroup size/);
  });
});

describe('gelu as x / (1 + e^(−2u))', () => {
  it('matches float64 gelu and its derivative from 1e-30 to 1e30, both signs', async () => {
    const mags = [0, 1e-30, 1e-8, 1e-3, 0.1, 0.5, 1, 1.7, 2.5, 3.3, 4, 5.5, 7, 7.9, 7.91, 8.5, 10, 30, 1e3, 1e30];
    const vals: number[] = [];
    for (const m of mags) vals.push(m, -m);
    for (let i = 0; i < 200; i++) vals.push((r.uniform() - 0.5) * 24);
    const xs = new Float64Array(vals.map((v) => Math.fround(v)));
    const x = E.tensor(xs, [xs.length], { requiresGrad: true });
    const y = E.gelu(x);
    const got = (await E.toArray(y));
    E.backward(E.sumAll(y));
    const dgot = (await E.toArray(x.grad!));
    const c = Math.sqrt(2 / Math.PI);
    for (let i = 0; i < xs.length; i++) {
      const v = xs[i]!;
      const u = c * (v + 0.044715 * v * v * v);
      const t = Math.tanh(u);
      const want = 0.5 * v * (1 + t);
      const dwant = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * c * (1 + 3 * 0.044715 * v * v);
      // f32 arithmetic and exp's error, which grows with |2u|: a millionth of |y|, or of |x| up to 1
      expect(Math.abs(got[i]! - want), `gelu(${v}) = ${got[i]}, float64 ${want}`).toBeLessThanOrEqual(1e-6 * Math.max(Math.abs(want), Math.min(Math.abs(v), 1)));
      // x² overflows f32 beyond ≈ 1e19 and the derivative's 0 · ∞ is NaN there (as with the builtin tanh)
      if (Math.abs(v) <= 1e3) expect(Math.abs(dgot[i]! - dwant), `gelu'(${v}) = ${dgot[i]}, float64 ${dwant}`).toBeLessThanOrEqual(5e-6 * Math.max(1, Math.abs(dwant)));
    }
    expect(Math.abs(got[mags.indexOf(1e30) * 2 + 1]!)).toBe(0); // gelu(−1e30) is 0, not −1e30 · 1e-7
  });
});
