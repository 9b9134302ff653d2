// Prints the adapter the engine picks (CSRM_ADAPTER / CSRM_BACKEND apply), its features, subgroup
// size, subgroup-matrix configurations and the builtin syntax the probe found, and its main limits.
import { getGpu, shutdownGpu } from '../engine/device.ts';

const g = await getGpu();
console.log(`adapter: ${g.info.adapter}`);
console.log(`software: ${g.info.isSoftware}`);
console.log(`features: ${g.info.features.join(', ')}`);
console.log(`subgroup size (probed): ${g.info.subgroupSize ?? 'none or varying'}`);
const x = g.info.subgroupMatrix;
if (!x) console.log('subgroup matrices: feature absent (CSRM_DAWN_TOGGLES=allow_unsafe_apis lists it where the adapter has it)');
else {
  console.log(`subgroup matrices: ${x.configs.map((c) => `${c.component}→${c.result} ${c.M}×${c.N}×${c.K}`).join(', ') || 'no configurations'}; subgroupMaxSize ${x.subgroupMaxSize}`);
  console.log(`subgroup-matrix syntax: ${x.syntax ? `load ${x.syntax.load}, store ${x.syntax.store}, index ${x.syntax.index}${x.syntax.index === 'local' ? ` (subgroup_id works too: ${x.builtinIndex ? 'yes' : 'no'})` : ''}; f16 config ${x.f16!.M}×${x.f16!.N}×${x.f16!.K}` : `none works (${x.problem})`}`);
}
for (const k of ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup']) {
  console.log(`${k}: ${g.info.limits[k]}`);
}
await shutdownGpu();
