// Runs one workgroup of a probe kernel and reads one buffer back: the device-setup probes (subgroup
// size, subgroup-matrix syntax) run before the engine's runtime exists, on the raw device.

/** Binds `buffers` as bindings 0, 1, … of group 0, dispatches one workgroup and returns a copy of `out`'s first `bytes`. */
export async function runOneWorkgroup(device: GPUDevice, pipeline: GPUComputePipeline, buffers: GPUBuffer[], out: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
  const rd = device.createBuffer({ size: bytes, usage: 0x0001 | 0x0008 /* MAP_READ|COPY_DST */ });
  try {
    const bind = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })) });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(1);
    pass.end();
    enc.copyBufferToBuffer(out, 0, rd, 0, bytes);
    device.queue.submit([enc.finish()]);
    await rd.mapAsync(1 /* READ */);
    const v = rd.getMappedRange().slice(0);
    rd.unmap();
    return v;
  } finally {
    rd.destroy();
  }
}
