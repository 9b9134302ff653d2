#!/usr/bin/env bash
# Idempotent set-up: installs what is missing so `npm test` and `npm run demo` work on a bare
# Debian bookworm machine (root). Dawn needs a Vulkan driver; without a GPU that is Mesa's
# lavapipe, and bookworm's own Mesa 22.3 is rejected by Dawn, so we take Mesa 25 from backports.
# The sharded jobs (`csrm worker`, BullMQ) need Redis: the tests start their own redis-server on
# 127.0.0.1 with a free port, so only the binary is installed (Debian's redis-server).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "[setup] $*" >&2; }
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

have_vulkan_driver() {
  # A usable ICD is either a real GPU driver (NVIDIA etc.) or Mesa >= 23 lavapipe.
  ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1' || return 1
  if ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json >/dev/null 2>&1; then return 0; fi
  if [ -n "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then return 0; fi
  local v
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
  [ -n "$v" ] || return 1
  case "$v" in 22.*|21.*|20.*) return 1 ;; esac
  return 0
}

need_apt=0
if ! have_vulkan_driver; then need_apt=1; fi
# spm_train (Debian `sentencepiece`) trains a market's tokenizer (csrm tokenizer; the demo on a new lexicon)
if ! command -v spm_train >/dev/null 2>&1; then need_apt=1; fi
if ! command -v redis-server >/dev/null 2>&1; then need_apt=1; fi

if [ "$need_apt" = "1" ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    log "no apt-get: install by hand what is missing: a Vulkan driver (Mesa >= 23 lavapipe or a GPU driver), spm_train (sentencepiece), redis-server"; exit 1
  fi
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  if [ "$codename" = "bookworm" ] && ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    log "adding bookworm-backports apt source"
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      | $SUDO tee /etc/apt/sources.list.d/backports.sources >/dev/null
  fi
  log "apt-get update"
  $SUDO apt-get update -qq
  export DEBIAN_FRONTEND=noninteractive
  if ! have_vulkan_driver; then
    log "installing lavapipe (mesa-vulkan-drivers) and the Vulkan loader"
    if [ "$codename" = "bookworm" ]; then
      $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
    else
      $SUDO apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
    fi
  fi
  if ! command -v redis-server >/dev/null 2>&1; then
    log "installing redis-server (the job queue of \`csrm worker\`)"
    $SUDO apt-get install -y -qq redis-server >/dev/null
  fi
  if ! command -v spm_train >/dev/null 2>&1; then
    log "installing spm_train (sentencepiece)"
    $SUDO apt-get install -y -qq sentencepiece >/dev/null
  fi
fi

# Node dependencies: reinstall only when the lock file changed since the last install.
stamp=node_modules/.setup-stamp
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "npm ci"
  # onnxruntime-node (a benchmark peer) must not try to download GPU binaries: CI is offline but for npm
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
log "ok"
