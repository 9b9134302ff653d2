// What a load costs on this adapter, the measurement behind the CPU-adapter kernels (subgroup
// broadcast matmul, subgroup attention and scatter): one workgroup of 64 invocations per 64 lanes
// loops 2048 times over 4 loads whose address pattern differs per kernel, and we report the
// adapter threads' CPU time per loaded float and per lane-iteration, against a loop of FMAs only.
//   npx tsx bench/lavapipe-loads.ts
// On lavapipe (Mesa 25.0) a storage load whose address is not a compile-time constant is emitted per
// lane (mask test, index extract, bounds check, scalar load, insert), whatever the addresses are:
// lane-contiguous, strided and same-address loads cost alike; a vec4 load amortises the per-lane
// mask test over four floats; only a constant address becomes one scalar load for all lanes. Integer
// division and remainder by a runtime value have no SIMD instruction on x86 and run lane by lane too.
import { empty, initEngine, randn, shutdownGpu, sync } from '../engine/index.ts';
import { gpuSync } from '../engine/device.ts';
import { launch } from '../engine/runtime.ts';
import { threadCpu, threadCpuSince } from '../engine/thread-cpu.ts';
import { kernel } from '../kernels/kernel.ts';

const WG = 64;
const GROUPS = 32;
const ITERS = 2048;
const DIVISOR = 768; // p.n: the divisor of the division case (a runtime value, as a tensor's shape is)

interface LoadCase {
  name: string;
  /** Statements of one iteration: four loads accumulated into s0..s3 (vec4 accumulators). */
  body: string;
  /** Floats one lane loads per iteration (0: no loads). */
  floats: number;
  subgroups?: boolean;
}

const four = (f: (i: number) => string) => [0, 1, 2, 3].map(f).join('\n    ');
const CASES: LoadCase[] = [
  { name: 'FMA only (16 vec4 fma per lane-iteration)', body: four((i) => `s${i} = fma(s${i}, vec4<f32>(0.999), vec4<f32>(0.5)); s${i} = fma(s${i}, vec4<f32>(0.999), s${(i + 1) % 4}); s${i} = fma(s${i}, vec4<f32>(0.999), vec4<f32>(0.25)); s${i} = fma(s${i}, vec4<f32>(0.999), s${(i + 2) % 4});`), floats: 0 },
  { name: 'f32, lane-contiguous addresses', body: four((i) => `s${i}.x += x[(kk * 4u + ${i}u) * 2048u + base];`), floats: 4 },
  { name: 'f32, stride 1024 floats between lanes', body: four((i) => `s${i}.x += x[base * 1024u + kk * 4u + ${i}u];`), floats: 4 },
  { name: 'f32, same address on every lane', body: four((i) => `s${i}.x += x[(kk * 4u + ${i}u) * 2048u + wid.x];`), floats: 4 },
  { name: 'f32, compile-time constant address', body: four((i) => `s${i}.x += x[${i * 77}u];`), floats: 4 },
  { name: 'vec4, lane-contiguous addresses', body: four((i) => `s${i} += x4[(kk * 4u + ${i}u) * 2048u + base];`), floats: 16 },
  { name: 'vec4, stride 256 vec4 between lanes', body: four((i) => `s${i} += x4[base * 256u + kk * 4u + ${i}u];`), floats: 16 },
  // the index arithmetic of the strided kernels (permute, slice, concat, where): no SIMD integer division on x86
  { name: 'u32 ÷ and % by a uniform divisor (no load)', body: four((i) => `s${i}.x += f32((base + kk * ${i + 1}u) / p.n + (base + kk + ${i}u) % p.n);`), floats: 0 },
  { name: 'subgroupBroadcast of a register (no load)', body: four((i) => `s${i}.x += subgroupBroadcast(s${(i + 1) % 4}.y, ${i + 1}u);`), floats: 0, subgroups: true },
];

function loadKernel(c: LoadCase) {
  return kernel(
    `load_cost_${CASES.indexOf(c)}`,
    /* wgsl */ `${c.subgroups ? 'enable subgroups;\n' : ''}struct P { n: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> x4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4<f32>>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  var s0 = vec4<f32>(0.0); var s1 = vec4<f32>(0.0); var s2 = vec4<f32>(0.0); var s3 = vec4<f32>(0.0);
  let base = wid.x * ${WG}u + lid;
  for (var k = 0u; k < ${ITERS}u; k++) {
    let kk = k & 511u; // addresses cycle through 512 iterations' worth (64 MiB at most)
    ${c.body}
  }
  y[base] = s0 + s1 + s2 + s3;
}`,
    ['r', 'r', 'rw'],
  );
}

await initEngine();
const info = gpuSync().info;
console.log(`adapter: ${info.adapter}; subgroup size ${info.subgroupSize ?? 'not fixed'}`);
const x = randn([2048 * 2048 * 4], { seed: 1 });
const y = empty([GROUPS * WG * 4]);
const laneIters = GROUPS * WG * ITERS;
for (const c of CASES) {
  if (c.subgroups && info.subgroupSize === null) continue;
  const k = loadKernel(c);
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    await sync();
    const c0 = threadCpu();
    launch(k, [x, x, y], [GROUPS, 1, 1], [DIVISOR]);
    await sync();
    // the first run compiles; on a machine without /proc wall time would be the only clock
    if (r > 0) best = Math.min(best, threadCpuSince(c0)?.otherMs ?? NaN);
  }
  const perIter = (best * 1e6) / laneIters;
  const perFloat = c.floats ? ` ${(perIter / c.floats).toFixed(3)} ns per float loaded` : '';
  console.log(`${c.name.padEnd(44)} ${best.toFixed(1).padStart(7)} ms adapter CPU, ${perIter.toFixed(3)} ns per lane-iteration${perFloat}`);
}
x.dispose();
y.dispose();
await shutdownGpu();
