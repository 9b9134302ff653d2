#!/usr/bin/env bash
# Builds, here, what scripts/gpu-run.sh needs on a bare GPU machine that reaches no registry:
# .gpu/node.xz (this node binary), .gpu/nm.tar.xz (node_modules without the packages a GPU run does not
# load and other platforms' Dawn builds), .gpu/ort.tar.xz (the ORT WebGPU peer's files) and .gl/*.deb (the Vulkan loader and libglvnd, which the NVIDIA
# ICD needs). Both folders are git-ignored; name them in the device tool's `carry` (≈ 50 MB in all).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .gpu .gl /tmp/amd64/partial
xz -T0 -6 -c "$(command -v node)" >.gpu/node.xz
tar --exclude='node_modules/onnxruntime-node' --exclude='node_modules/onnxruntime-web' --exclude='node_modules/typescript' \
  --exclude='node_modules/webgpu/dist/darwin-universal' --exclude='node_modules/webgpu/dist/linux-arm64' \
  --exclude='node_modules/webgpu/dist/win32-*' --exclude='node_modules/@types' --exclude='node_modules/.cache' \
  -cf - node_modules | xz -T0 -6 >.gpu/nm.tar.xz
# ONNX Runtime Web's WebGPU EP, a benchmark peer: only the files its Node entry loads (4 MB of 140)
ortd=node_modules/onnxruntime-web
tar -cf - $ortd/package.json $ortd/types.d.ts $ortd/node_modules $ortd/dist/ort.webgpu.bundle.min.mjs $ortd/dist/ort.webgpu.min.mjs \
  $ortd/dist/ort-wasm-simd-threaded.asyncify.mjs $ortd/dist/ort-wasm-simd-threaded.asyncify.wasm | xz -T0 -6 >.gpu/ort.tar.xz
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
# shellcheck disable=SC2086
apt-get $o update >/dev/null
# shellcheck disable=SC2086
(cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
du -sh .gpu .gl
