// What the adapter can do, measured in the same run: a register-only FMA kernel (compute ceiling,
// GFLOP/s) and a large vec4 copy (bandwidth ceiling, GB/s counting read + write). Each has a few
// variants (independent chains; vec4 per invocation) and keeps the fastest via engine/autotune.ts;
// work is sized by calibration so one repetition takes long enough to time on any adapter.
import { autotune } from '../engine/autotune.ts';
import { gpuSync } from '../engine/device.ts';
import { relErr } from '../engine/gradcheck.ts';
import { trimPool } from '../engine/pool.ts';
import { empty, tensor, type Tensor } from '../engine/index.ts';
import { grid1d, launch, readBuffer, sync } from '../engine/runtime.ts';
import { COPY_WG, copyCeiling } from '../kernels/ceiling/copy.ts';
import { FMA_WG, fmaCeiling } from '../kernels/ceiling/fma.ts';
import { hostInput } from './inputs.ts';
import { sampleRows } from './reference.ts';
import type { BenchCase, BenchInstance, BenchOpts, BenchSuite } from './types.ts';

const FMA_CHAINS = [4, 8, 16];
const COPY_VPT = [1, 4, 8];
const FMA_A = 0.75; // |a| < 1: x ← a·x + b converges to b/(1 − a), rounding errors die out
const FMA_B = 0.25;
const MIN_REP_MS = 30;

/** float64 value invocation i writes: Σ over chains and lanes of the recurrence from its start. */
function fmaExpected(i: number, chains: number, iters: number): number {
  let s = 0;
  for (let c = 0; c < chains; c++) {
    for (let x of [Math.fround(i * 1e-7), c, 0.5, -0.5]) {
      for (let k = 0; k < iters; k++) x = x * FMA_A + FMA_B;
      s += x;
    }
  }
  return s;
}

function fmaCase(o: BenchOpts): BenchCase {
  const c: BenchCase = {
    kernel: 'ceiling_fma',
    shape: o.smoke ? 'smoke' : 'calibrated',
    system: 'ceiling',
    ceiling: 'compute',
    tolerance: 1e-5,
    async setup(): Promise<BenchInstance> {
      const g = gpuSync();
      const wgs = o.smoke ? 3 : g.info.isSoftware ? 256 : 16384;
      const n = wgs * FMA_WG - (o.smoke ? 5 : 0); // smoke: a partial last workgroup
      const y = empty([n]);
      let iters = o.smoke ? 7 : 64;
      // every variant does the same flops: iterations scale as 8/chains
      const itersFor = (chains: number) => Math.max(1, Math.round((iters * 8) / chains));
      const runWith = (chains: number) => async () => {
        launch(fmaCeiling(chains), [y], grid1d(wgs), [n, itersFor(chains), { f: FMA_A }, { f: FMA_B }], 'ceiling_fma');
        await sync();
      };
      const time = async (run: () => Promise<void>, k: number) => {
        let best = Infinity;
        for (let i = 0; i < k; i++) {
          const t0 = performance.now();
          await run();
          best = Math.min(best, performance.now() - t0);
        }
        return best;
      };
      if (!o.smoke) {
        // calibrate first (default variant, best of 3 so a busy host does not stop it early): grow
        // the loop until one repetition is long enough that launch overhead is noise
        while (iters < 1 << 22 && (await time(runWith(8), 3)) < MIN_REP_MS) iters *= 2;
      }
      const variants = FMA_CHAINS.map((ch) => ({ name: `chains${ch}`, run: runWith(ch) }));
      const choice = o.smoke ? 'chains8' : await autotune({ op: 'ceiling_fma', bucket: `${n}inv x ${iters}it` }, variants, { fallback: 'chains8' });
      const chains = Number(choice.replace('chains', ''));
      const run = runWith(chains);
      const it = itersFor(chains);
      c.flops = n * it * chains * 4 * 2; // vec4 FMA = 4 multiply-adds = 8 flops
      c.shape = `${n}inv x ${it}it x ${chains}ch`;
      return {
        run,
        async relErr() {
          const got = new Float32Array(await readBuffer(y.gpu!.buffer, n * 4));
          const idx = sampleRows(n, 32);
          return relErr(idx.map((i) => got[i]!), idx.map((i) => fmaExpected(i, chains, it)));
        },
        dispose: () => y.dispose(),
      };
    },
  };
  return c;
}

/** The largest buffer a copy kernel may bind on this adapter (bytes). */
export function copyBindingLimit(): number {
  const l = gpuSync().info.limits;
  return Math.min(l.maxStorageBufferBindingSize ?? 2 ** 27, l.maxBufferSize ?? 2 ** 27);
}

function copyCase(o: BenchOpts): BenchCase {
  const c: BenchCase = {
    kernel: 'ceiling_copy',
    shape: '',
    system: 'ceiling',
    ceiling: 'bandwidth',
    tolerance: 0,
    async setup(): Promise<BenchInstance> {
      const bytes = o.smoke ? 1037 * 16 : Math.floor(Math.min(256 * 2 ** 20, copyBindingLimit() * 0.8) / 16) * 16;
      const n = bytes / 4;
      const n4 = n / 4;
      const host = hostInput('ceiling_copy', [n]);
      const x: Tensor = tensor(host, [n]);
      const y = empty([n]);
      const runWith = (vpt: number) => async () => {
        launch(copyCeiling(vpt), [x, y], grid1d(Math.ceil(n4 / (COPY_WG * vpt))), [n4], 'ceiling_copy');
        await sync();
      };
      const variants = COPY_VPT.map((v) => ({ name: `vec4x${v}`, run: runWith(v) }));
      const choice = o.smoke ? 'vec4x4' : await autotune({ op: 'ceiling_copy', bucket: `${bytes}` }, variants, { fallback: 'vec4x4' });
      c.bytes = 2 * bytes; // read + write
      c.shape = `${(bytes / 2 ** 20).toFixed(bytes < 2 ** 20 ? 3 : 0)}MiB ${choice}`;
      return {
        run: runWith(Number(choice.replace('vec4x', ''))),
        async relErr() {
          const got = new Float32Array(await readBuffer(y.gpu!.buffer, bytes));
          return relErr(got, host);
        },
        dispose() {
          x.dispose();
          y.dispose();
          trimPool(); // give the large buffers back so later cases do not run beside them
        },
      };
    },
  };
  return c;
}

/** The system name of a same-size copy row (bench/run.ts adds one to every bandwidth group). */
export const SAME_SIZE_COPY = 'same-size copy';

/**
 * The copy-ceiling kernel moving the bytes a bandwidth row moves (read + write), timed in that row's
 * rounds like the row itself (median, one call and a sync per repetition): the rate a perfect
 * kernel reaches at that size, where the fixed cost of a call and its wait weigh more than at the
 * ceiling's 100+ MiB. A row's GB/s over this row's is its kernel's share of what the size allows.
 */
export function sameSizeCopyCase(kernel: string, shape: string, bytes: number): BenchCase | null {
  if (bytes / 2 > copyBindingLimit()) return null; // past what one binding holds: the copy ceiling's own size applies
  const n4 = Math.max(1, Math.round(bytes / 32)); // vec4 words read (and written)
  return {
    kernel,
    shape,
    system: SAME_SIZE_COPY,
    ceiling: 'bandwidth',
    bytes: 32 * n4,
    tolerance: 0,
    async setup(): Promise<BenchInstance> {
      const n = 4 * n4;
      const host = hostInput(`same_size_copy_${n}`, [n]);
      const x: Tensor = tensor(host, [n]);
      const y = empty([n]);
      return {
        async run() {
          launch(copyCeiling(4), [x, y], grid1d(Math.ceil(n4 / (COPY_WG * 4))), [n4], 'copy_same_size');
          await sync();
        },
        async relErr() {
          const got = new Float32Array(await readBuffer(y.gpu!.buffer, 4 * n));
          return relErr(got, host);
        },
        dispose() {
          x.dispose();
          y.dispose();
        },
      };
    },
  };
}

export const suite: BenchSuite = {
  name: 'ceilings',
  cases: (o) => [fmaCase(o), copyCase(o)],
};
