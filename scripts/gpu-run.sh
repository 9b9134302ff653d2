#!/usr/bin/env bash
# The one command for a machine with an NVIDIA GPU: checks the Vulkan loader, prints the adapter,
# runs the full benchmark (JSON + table), then the demo's larger preset, and writes every figure to
# $OUT (if set) or runs/gpu-<date>. Works where node and node_modules were carried in (no npm):
# tsx is started through node directly. Extra arguments go to bench/run.ts (e.g. --kernel matmul).
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-runs/gpu-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
tsx() { node node_modules/tsx/dist/cli.mjs "$@"; }
log() { echo "[gpu-run] $*" >&2; }

if ! ldconfig -p 2>/dev/null | grep -q libvulkan; then
  log "no libvulkan in ldconfig: install libvulkan1 (or carry it) and the NVIDIA Vulkan ICD"; exit 1
fi
export CSRM_ADAPTER="${CSRM_ADAPTER:-nvidia}" # never fall back to a CPU rasteriser silently
export CSRM_AUTOTUNE_CACHE="$out/autotune.json"

tsx bench/adapter.ts | tee "$out/adapter.txt" || { log "no NVIDIA adapter (CSRM_ADAPTER=$CSRM_ADAPTER)"; exit 1; }

log "bench → $out/bench.md, $out/bench.jsonl"
tsx bench/run.ts --json "$out/bench.jsonl" "$@" 2>"$out/bench.log" | tee "$out/bench.md"
bench_rc=${PIPESTATUS[0]}

log "demo --preset gpu → $out/demo.log"
tsx pipeline/cli/demo.ts --preset "${CSRM_GPU_PRESET:-gpu}" --run "$out/demo" >"$out/demo.log" 2>&1
demo_rc=$?
tail -n 20 "$out/demo.log"

log "done: bench rc=$bench_rc, demo rc=$demo_rc; figures in $out"
[ "$bench_rc" = 0 ] && [ "$demo_rc" = 0 ]
