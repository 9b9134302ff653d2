// The matrix units' ceiling through Dawn's subgroup matrices (kernels/ceiling/mma.ts), on adapters that
// list them: register-resident operands (the multiply-accumulate rate alone) and operands loaded every
// iteration from workgroup or global memory (what a staged or direct matmul pays per multiply). The
// rows say where a subgroup-matrix matmul's time goes; none exists on lavapipe (no cooperative matrix).
import { gpuSync } from '../engine/device.ts';
import { empty, precompile, tensor } from '../engine/index.ts';
import { trimPool } from '../engine/pool.ts';
import { launch, readBuffer, sync } from '../engine/runtime.ts';
import { mmaCeiling, mmaExpected, mmaFlops, mmaOperandLayout, mmaOperandValue, type MmaCeilingSpec, type MmaSource } from '../kernels/ceiling/mma.ts';
import type { BenchCase, BenchOpts, BenchSuite } from './types.ts';

const MIN_REP_MS = 30;
const MAX_ITERS = 1 << 18; // |result| ≤ K · iters stays an exact f32 integer (K ≤ 32)

/** The rows: source × result matrices per subgroup, 4 subgroups per workgroup; 'builtin' rows take
 * the subgroup's index from subgroup_id (where the probe's spelling uses the local index and the
 * builtin one also multiplied), to see whether the driver's knowing it uniform matters. */
export const MMA_ROWS: { source: MmaSource; fm: number; fn: number; builtin?: boolean }[] = [
  { source: 'reg', fm: 1, fn: 1 },
  { source: 'reg', fm: 2, fn: 2 },
  { source: 'reg', fm: 4, fn: 4 },
  { source: 'wg', fm: 2, fn: 2 },
  { source: 'wg', fm: 4, fn: 4 },
  { source: 'global', fm: 4, fn: 4 },
  { source: 'reg', fm: 4, fn: 4, builtin: true },
  { source: 'wg', fm: 4, fn: 4, builtin: true },
];

/** The specs this adapter can run (none without an f16 subgroup-matrix configuration that the probe multiplied). */
export function mmaSpecs(): (MmaCeilingSpec & { builtin: boolean })[] {
  const sgm = gpuSync().info.subgroupMatrix;
  if (!sgm?.syntax || !sgm.f16) return [];
  const { syntax, f16, subgroupMaxSize } = sgm;
  const builtinDiffers = syntax.index === 'local' && sgm.builtinIndex === true;
  return MMA_ROWS.filter((r) => !r.builtin || builtinDiffers).map((r) => ({
    ...r,
    builtin: r.builtin ?? false,
    subgroups: 4,
    sg: subgroupMaxSize,
    cfg: { M: f16.M, N: f16.N, K: f16.K },
    syntax: r.builtin ? { ...syntax, index: 'builtin' as const } : syntax,
  }));
}

function mmaCase(s: MmaCeilingSpec & { builtin: boolean }, o: BenchOpts): BenchCase {
  const c: BenchCase = {
    kernel: 'ceiling_mma',
    shape: `${s.source} ${s.fm}x${s.fn} c${s.cfg.M}x${s.cfg.N}x${s.cfg.K}`,
    system: `ours:${s.source}${s.fm}x${s.fn}${s.builtin ? '-sgid' : ''}`,
    ceiling: 'compute',
    tolerance: 0,
    async setup() {
      const lay = mmaOperandLayout(s);
      const host = Float32Array.from({ length: lay.size }, (_, e) => mmaOperandValue(e));
      const a = tensor(host, [lay.size], { dtype: 'f16' });
      const wgs = o.smoke ? 3 : 2048;
      const frag = s.cfg.M * s.cfg.N;
      const outLen = wgs * s.subgroups * s.fm * s.fn * frag;
      const y = empty([outLen]);
      const k = mmaCeiling(s);
      await precompile(k); // a shader the driver rejects fails this row with its message, not the run
      let iters = o.smoke ? 5 : 16;
      const run = async () => {
        launch(k, [a, y], [wgs, 1, 1], [iters, 1], 'ceiling_mma');
        await sync();
      };
      if (!o.smoke) {
        // grow the loop until one repetition is long enough that launch overhead is noise (best of 3)
        for (;;) {
          let best = Infinity;
          for (let r = 0; r < 3; r++) {
            const t0 = performance.now();
            await run();
            best = Math.min(best, performance.now() - t0);
          }
          if (best >= MIN_REP_MS || iters >= MAX_ITERS) break;
          iters = Math.min(MAX_ITERS, iters * 2);
        }
      }
      c.flops = mmaFlops(s, wgs, iters);
      c.shape = `${s.source} ${s.fm}x${s.fn} c${s.cfg.M}x${s.cfg.N}x${s.cfg.K} ${wgs}wg x ${iters}it`;
      return {
        run,
        async relErr() {
          const got = new Float32Array(await readBuffer(y.gpu!.buffer, outLen * 4));
          // every result matrix of the first and last subgroup of the grid, each element
          let num = 0;
          let den = 0;
          const frags = s.fm * s.fn;
          for (const g of [0, wgs * s.subgroups - 1]) {
            for (let f = 0; f < frags; f++) {
              const i = Math.floor(f / s.fn);
              const j = f % s.fn;
              for (let e = 0; e < frag; e++) {
                const want = mmaExpected(s, iters, i, j, Math.floor(e / s.cfg.N), e % s.cfg.N);
                num += (got[(g * frags + f) * frag + e]! - want) ** 2;
                den += want * want;
              }
            }
          }
          return Math.sqrt(num / Math.max(den, 1));
        },
        dispose() {
          a.dispose();
          y.dispose();
          trimPool();
        },
      };
    },
  };
  return c;
}

export const suite: BenchSuite = {
  name: 'mma-ceiling',
  cases: (o) => mmaSpecs().map((s) => mmaCase(s, o)),
};
