// Runs the RQA benchmark suites (bench/bm25.ts, bench/knn.ts) until the shared runner lists them:
//   npx tsx scripts/bench-rqa.ts [--smoke] [--reps 5] [--only knn_search]
// Prints one JSON line per case: median time, GFLOP/s where the case has flops, relErr, queries/s.
import { initEngine, shutdownGpu } from '../engine/index.ts';
import { suite as bm25 } from '../bench/bm25.ts';
import { suite as knn } from '../bench/knn.ts';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const reps = Number(args[args.indexOf('--reps') + 1] ?? 5) || 5;
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;

/** Queries per repetition, read from the shape ('…_2000queries_…' or 'QxNxD…'). */
function queriesOf(shape: string): number | null {
  const m = /(\d+)queries/.exec(shape) ?? /^(\d+)x\d+x\d+/.exec(shape);
  return m ? Number(m[1]) : null;
}

const info = await initEngine();
for (const s of [bm25, knn]) {
  for (const c of s.cases({ smoke })) {
    if (only && c.kernel !== only) continue;
    const inst = await c.setup();
    await inst.run(); // warm-up: pipelines compiled, pool filled
    const ms: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t = performance.now();
      await inst.run();
      ms.push(performance.now() - t);
    }
    ms.sort((a, b) => a - b);
    const median = ms[Math.floor(ms.length / 2)]!;
    const q = c.kernel.includes('index') ? null : queriesOf(c.shape);
    console.log(JSON.stringify({
      kernel: c.kernel, shape: c.shape, system: c.system, median_ms: +median.toFixed(3),
      gflops: c.flops ? +(c.flops / median / 1e6).toFixed(2) : null,
      queries_per_s: q ? Math.round(q / (median / 1000)) : null,
      rel_err: await inst.relErr(), adapter: info.info.adapter,
    }));
    await inst.dispose();
  }
}
await shutdownGpu();
