// Prints GFLOP/s of every matmul variant (rows: M×N×K) and the register-vs-shared ratio at 1024³.
//   npx tsx bench/matmul-table.ts [--quick] [--size 1024]
// --quick skips 2048³. Each case: one warm-up, then repetitions until 3 runs or ~4 s, median time.
import * as E from '../engine/index.ts';
import { suite } from './matmul.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const sizeArg = args.indexOf('--size');
const size = sizeArg >= 0 ? Number(args[sizeArg + 1]) : undefined;

await E.initEngine();
const { getGpu } = await import('../engine/device.ts');
console.log(`adapter: ${(await getGpu()).info.adapter}`);

const gflops = new Map<string, Map<string, number>>();
for (const c of suite.cases({ smoke: false, size })) {
  if (quick && c.shape === '2048x2048x2048') continue;
  const inst = await c.setup();
  await inst.run(); // warm-up (pipeline compilation)
  const times: number[] = [];
  const t0 = performance.now();
  while (times.length < 3 && (times.length === 0 || performance.now() - t0 < 4000)) {
    const t = performance.now();
    await inst.run();
    times.push(performance.now() - t);
  }
  times.sort((x, y) => x - y);
  const ms = times[Math.floor(times.length / 2)]!;
  const err = await inst.relErr();
  await inst.dispose();
  const g = c.flops! / (ms * 1e6);
  if (!gflops.has(c.shape)) gflops.set(c.shape, new Map());
  gflops.get(c.shape)!.set(c.system, g);
  console.log(`${c.shape.padEnd(16)} ${c.system.padEnd(15)} ${ms.toFixed(1).padStart(9)} ms ${g.toFixed(2).padStart(7)} GFLOP/s  relErr ${err.toExponential(2)}`);
}

const systems = E.MATMUL_VARIANTS.map((v) => `ours:${v}`);
console.log(`\nGFLOP/s\n${'M×N×K'.padEnd(16)}${systems.map((s) => s.padStart(16)).join('')}`);
for (const [shape, m] of gflops) {
  console.log(`${shape.padEnd(16)}${systems.map((s) => (m.has(s) ? m.get(s)!.toFixed(2) : '-').padStart(16)).join('')}`);
}
const k1 = gflops.get('1024x1024x1024');
if (k1?.has('ours:register') && k1.has('ours:tiled')) {
  console.log(`\nregister / shared-memory tiled at 1024³: ${(k1.get('ours:register')! / k1.get('ours:tiled')!).toFixed(2)}×`);
}
await E.shutdownGpu();
