// Prints the adapter the engine picks (CSRM_ADAPTER / CSRM_BACKEND apply) and its main limits.
import { getGpu, shutdownGpu } from '../engine/device.ts';

const g = await getGpu();
console.log(`adapter: ${g.info.adapter}`);
console.log(`software: ${g.info.isSoftware}`);
console.log(`features: ${g.info.features.join(', ')}`);
for (const k of ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup']) {
  console.log(`${k}: ${g.info.limits[k]}`);
}
await shutdownGpu();
