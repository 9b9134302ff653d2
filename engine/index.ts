// The engine's public API. The engine knows nothing of CSRM; its environment switches (device,
// debugging, tuning) are listed in switches.ts.
export { getGpu, shutdownGpu, type DeviceInfo } from './device.ts';
export { Tensor, empty, numel, view, type DType, type Backend } from './tensor.ts';
export { roundF16, packF16, unpackF16 } from './half.ts';
export { scope, scopeAsync, exclusive, keep, unkeep, release, isKept } from './scope.ts';
export { liveBytes, peakBytes, resetPeak, reservedBytes, trimPool } from './pool.ts';
export { flush, sync, read, toArray, item, launch, precompile, kernelTimes, resetKernelTimes, dispatchCount, beginGpuSpan, endGpuSpan, gpuSpanSupported } from './runtime.ts';
export { tensor, fill, zeros, ones, randn, rand, manualSeed, toBackend, setPoison } from './create.ts';
export { rng, type Rng } from './random.ts';
export { ENGINE_SWITCHES, engineSwitch, type EngineSwitch } from './switches.ts';
export { backward, noGrad, detach, zeroGrad, isGradEnabled, savedTensors, setInPlaceAccumulation } from './autograd.ts';
export { gradcheck, gpucheck, relErr, type CheckInput } from './gradcheck.ts';
export * from './ops/elementwise.ts';
export * from './ops/reduce.ts';
export * from './ops/matmul.ts';
export * from './ops/shape.ts';
export * from './ops/where.ts';
export * from './ops/gather.ts';
export * from './ops/softmax.ts';

import { getGpu } from './device.ts';
/** Initialises the GPU device (once per process). */
export async function initEngine() {
  return getGpu();
}
export * from './ops/norm.ts';
export * from './ops/rope.ts';
export * from './ops/linear.ts';
export * from './ops/linear-half.ts';
export * from './ops/dropout.ts';
export * from './ops/swiglu.ts';
export * from './ops/swiglu-linear.ts';
export * from './ops/lora.ts';
export { adamw, ADAMW_DEFAULTS, type Adamw, type AdamwOpts, type AdamwState, type AdamwStateIn } from './optim/adamw.ts';
export { clipGradNorm } from './optim/clip.ts';
export { weightAverage, type WeightAverage } from './optim/weight-average.ts';
export {
  LOSS_SCALE_DEFAULTS, checkLossScaleOpts, gradsOverflow, lossScaleFrom, lossScaleInit, lossScaleNext, scaledStep, unscaleGrads,
  type LossScale, type LossScaleOpts,
} from './optim/loss-scale.ts';
export { saveCheckpoint, loadCheckpoint, checkpointDigest, readCheckpointMeta, hostToTensor, loadTensorsInto, type Checkpoint, type CheckpointIn, type HostTensor } from './checkpoint.ts';
export { saveLoraAdapter, loadLoraAdapter, type LoraAdapterConfig } from './lora-adapter.ts';
export { fileError, readFileNamed, readFileNamedSync } from './read-file.ts';
export * from './safetensors.ts';
export * from './autotune.ts';
export * from './losses/index.ts';
export * from './ops/attention.ts';
export { setKernelFamily, subgroupKernelsUsable, type KernelFamily } from './kernel-family.ts';
export * from './ops/topk.ts';
export * from './ops/cast.ts';
