#!/usr/bin/env bash
# The one command for a machine with an NVIDIA GPU. Prints the adapter (features, subgroup size,
# subgroup-matrix configurations and the builtin syntax the probe found), runs the GPU-relevant
# float64 tests there, then benchmark runs, then the demo's larger preset; every figure goes to $OUT
# (if set) or runs/gpu-<date>.
#   scripts/gpu-run.sh ["--kernel matmul --size 4096" "--kernel attention" …]   (one bench run per argument;
#                                                                                  default: the whole bench)
#   CSRM_GPU_TESTS="test/…"   test files to run first (default: f16 matmul and attention); "" skips
#   CSRM_GPU_DEMO=0           skips the demo;  CSRM_GPU_PRESET=gpu  the demo preset
#   CSRM_GPU_TESTS_S / CSRM_GPU_BENCH_S / CSRM_GPU_DEMO_S   time limits (s) of the tests, of each bench run
#                             and of the demo (a lent machine's minutes are few; a stopped bench run
#                             still leaves its finished rows, with their rates, in bench.log)
# A bare machine without npm works when the carry bundle is in the checkout (scripts/gpu-carry.sh
# makes it here: .gpu/node.xz, .gpu/nm.tar.xz, .gpu/ort.tar.xz, .gl/*.deb Vulkan/GL loaders); they are unpacked first.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-runs/gpu-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out"
log() { echo "[gpu-run $(date +%H:%M:%S)] $*" >&2; }

if ls .gl/*.deb >/dev/null 2>&1 && ! ldconfig -p 2>/dev/null | grep -q libvulkan; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$icd" ] && export VK_DRIVER_FILES="$icd"
if ! command -v node >/dev/null && [ -f .gpu/node.xz ]; then
  mkdir -p /tmp/gpu-node && xz -dc .gpu/node.xz >/tmp/gpu-node/node && chmod +x /tmp/gpu-node/node
  export PATH="/tmp/gpu-node:$PATH"
fi
[ ! -d node_modules ] && [ -f .gpu/nm.tar.xz ] && tar -xJf .gpu/nm.tar.xz
[ ! -d node_modules/onnxruntime-web ] && [ -f .gpu/ort.tar.xz ] && tar -xJf .gpu/ort.tar.xz
tsx() { node node_modules/tsx/dist/cli.mjs "$@"; }

if ! ldconfig -p 2>/dev/null | grep -q libvulkan; then
  log "no libvulkan in ldconfig: install libvulkan1 + libglvnd (or carry them: scripts/gpu-carry.sh) and the NVIDIA Vulkan ICD"; exit 1
fi
export CSRM_ADAPTER="${CSRM_ADAPTER:-nvidia}" # never fall back to a CPU rasteriser silently
export CSRM_DAWN_TOGGLES="${CSRM_DAWN_TOGGLES:-allow_unsafe_apis}" # lists Dawn's experimental subgroup matrices
export CSRM_AUTOTUNE_CACHE="$out/autotune.json"

tsx bench/adapter.ts 2>&1 | grep -v '^Warning' | tee "$out/adapter.txt"
[ "${PIPESTATUS[0]}" = 0 ] || { log "no NVIDIA adapter (CSRM_ADAPTER=$CSRM_ADAPTER)"; exit 1; }

tests_rc=0
tests="${CSRM_GPU_TESTS-test/engine/mma-ceiling.test.ts test/engine/matmul-f16.test.ts test/engine/attention.test.ts test/engine/attention-flash.test.ts}"
if [ -n "$tests" ]; then
  present=$(for t in $tests; do [ -f "$t" ] && echo "$t"; done)
  log "float64 tests on the GPU: $present → $out/tests.log"
  # shellcheck disable=SC2086
  timeout "${CSRM_GPU_TESTS_S:-1800}" node node_modules/vitest/vitest.mjs run --reporter=verbose $present >"$out/tests.log" 2>&1
  tests_rc=$?
  grep -E 'Test Files|Tests  |FAIL' "$out/tests.log" | sed 's/\x1b\[[0-9;]*m//g' | head -20
  # a subgroup-matrix variant that failed its float64 tests here is left out of the benchmarks' choices
  off=$(sed 's/\x1b\[[0-9;]*m//g' "$out/tests.log" | grep -E '^ *(×|FAIL)' | grep -oE 'variant sgmat[a-z0-9]+' | awk '{print $2}' | sort -u | paste -sd, -)
  if [ -n "$off" ]; then
    export CSRM_MATMUL_F16_OFF="${CSRM_MATMUL_F16_OFF:+$CSRM_MATMUL_F16_OFF,}$off"
    log "left out of the benchmarks (float64 tests failed): $off"
  fi
fi

bench_rc=0
[ "$#" = 0 ] && set -- ""
i=0
for b in "$@"; do
  i=$((i + 1))
  log "bench $i: ${b:-(all)} → $out/bench-$i.md"
  # shellcheck disable=SC2086
  timeout "${CSRM_GPU_BENCH_S:-1800}" node node_modules/tsx/dist/cli.mjs bench/run.ts --json "$out/bench-$i.jsonl" $b 2>>"$out/bench.log" | tee "$out/bench-$i.md" | grep -E '^\| [a-z_0-9]+ \|' | cut -c1-160
  [ "${PIPESTATUS[0]}" = 0 ] || bench_rc=1
done

demo_rc=0
if [ "${CSRM_GPU_DEMO:-1}" != 0 ]; then
  log "demo --preset ${CSRM_GPU_PRESET:-gpu} → $out/demo.log"
  timeout "${CSRM_GPU_DEMO_S:-3600}" node node_modules/tsx/dist/cli.mjs pipeline/cli/demo.ts --preset "${CSRM_GPU_PRESET:-gpu}" --run "$out/demo" >"$out/demo.log" 2>&1
  demo_rc=$?
  tail -n 20 "$out/demo.log"
fi

log "done: tests rc=$tests_rc, bench rc=$bench_rc, demo rc=$demo_rc; figures in $out"
[ "$tests_rc" = 0 ] && [ "$bench_rc" = 0 ] && [ "$demo_rc" = 0 ]
