// Runs the lora and adamw suites directly (median of a few repetitions) until the shared runner
// (bench/run.ts) lists them: npx tsx bench/lora_adamw_main.ts [--smoke]
import { initEngine, peakBytes, resetPeak, shutdownGpu } from '../engine/index.ts';
import { suite as lora } from './lora.ts';
import { suite as adamwSuite } from './adamw.ts';

async function main(): Promise<void> {
  const g = await initEngine();
  const smoke = process.argv.includes('--smoke');
  console.log(`adapter: ${g.info.adapter}`);
  for (const s of [lora, adamwSuite]) {
    for (const c of s.cases({ smoke })) {
      resetPeak();
      const inst = await c.setup();
      await inst.run(); // warm-up: compiles pipelines
      const times: number[] = [];
      for (let i = 0; i < (smoke ? 2 : 5); i++) {
        const t0 = performance.now();
        await inst.run();
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      const ms = times[Math.floor(times.length / 2)]!;
      const err = await inst.relErr();
      const rate = c.flops ? `${(c.flops / ms / 1e6).toFixed(2)} GFLOP/s` : `${((c.bytes ?? 0) / ms / 1e6).toFixed(2)} GB/s`;
      console.log(`${c.kernel} ${c.shape} ${c.system}: ${ms.toFixed(2)} ms, ${rate}, rel err ${err.toExponential(2)}, peak ${(peakBytes() / 2 ** 20).toFixed(1)} MiB`);
      await inst.dispose();
    }
  }
  await shutdownGpu();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
