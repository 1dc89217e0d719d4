#!/usr/bin/env bash
# Build the tinyreg device agent (firmware/agent/) for every supported Cortex-M core.
#
# 1. Installs the Debian toolchain and QEMU when missing (gcc-arm-none-eabi, newlib, libstdc++,
#    qemu-system-arm; gcc for the host unit tests), waiting for the dpkg lock when another apt
#    holds it.
# 2. Builds the vendored TFLM tree (CMSIS-NN kernels, -O2, C++17/C11) as a static library per
#    core into a cache outside the checkout:
#        ${TINYREG_CACHE:-$HOME/.cache/tinyreg}/firmware/tflm-<core>-<key>/libtflm.a
#    key = sha256 over the vendored tree's contents, the compiler flags, the core and the
#    toolchain's --version. A second run with the same inputs rebuilds nothing.
# 3. Builds the agent ELF per core (fast) into
#        ${TINYREG_CACHE:-$HOME/.cache/tinyreg}/firmware/agent-<core>-<key>/agent.elf
#    key = the library key plus the agent's sources; and the host unit-test binary of the
#    portable core into .../host-<key>/.
#
# Usage: bash scripts/firmware.sh [--elf CORE | --host-test]
#   no argument    build everything, print one line per artefact
#   --elf CORE     build what CORE needs, print only its ELF path
#   --host-test    build the host unit-test binary, print only its path
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
CORES=(mps2-an386 mps3-an547)
mode="${1:-all}"
jobs="$(nproc 2>/dev/null || echo 2)"
[ "$jobs" -gt 2 ] || jobs=2

log() { echo "firmware: $*" >&2; }

# --- 1. toolchain ------------------------------------------------------------------------------
need_apt=()
command -v arm-none-eabi-gcc >/dev/null 2>&1 || need_apt+=(gcc-arm-none-eabi)
[ -f /usr/lib/arm-none-eabi/newlib/libc.a ] || need_apt+=(libnewlib-arm-none-eabi)
[ -d /usr/lib/arm-none-eabi/include/c++ ] || need_apt+=(libstdc++-arm-none-eabi-newlib)
command -v qemu-system-arm >/dev/null 2>&1 || need_apt+=(qemu-system-arm)
command -v flock >/dev/null 2>&1 || need_apt+=(util-linux)
# the host unit tests of the portable core (gcc with AddressSanitizer)
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc libc6-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  log "installing ${need_apt[*]} (apt waits up to 10 min for the dpkg lock)"
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${need_apt[@]}" >/dev/null
fi

cache="${TINYREG_CACHE:-$HOME/.cache/tinyreg}/firmware"
mkdir -p "$cache"
agent="$repo/firmware/agent"
toolchain="$(arm-none-eabi-gcc --version | head -n1)"

# sha256 over the contents (and relative names) of the files under a folder
tree_hash() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64); }

tflm_hash="$(tree_hash firmware/third_party/tflite-micro)"
agent_hash="$( (cd firmware && { tree_hash agent; tree_hash third_party/monocypher; }) | sha256sum | cut -c1-64)"

# flags without this checkout's absolute path, so that every clone shares the cache
lib_flags() { make -s -C "$agent" print-lib-flags CORE="$1" | sed "s|$agent/||g"; }

build_core() {  # build_core CORE -> prints the ELF path
  local core="$1" lib_key lib_dir agent_key agent_dir
  lib_key="$(printf '%s\n' "$tflm_hash" "$(lib_flags "$core")" "$core" "$toolchain" | sha256sum | cut -c1-16)"
  lib_dir="$cache/tflm-$core-$lib_key"
  # one build per key at a time (tests, setup and other checkouts share the cache)
  exec 9>"$cache/tflm-$core-$lib_key.lock"
  flock 9
  if [ ! -f "$lib_dir/libtflm.a" ]; then
    log "building the TFLM library for $core into $lib_dir (about 10 CPU-minutes)"
    local start=$SECONDS
    make -s -C "$agent" -j"$jobs" lib CORE="$core" TFLM_OUT="$lib_dir.partial" TFLM_LIB="$lib_dir.partial/libtflm.a"
    rm -rf "$lib_dir.partial/obj"  # the archive is all the agent needs
    mv "$lib_dir.partial" "$lib_dir"
    log "TFLM library for $core built in $((SECONDS - start)) s"
  fi
  flock -u 9
  agent_key="$(printf '%s\n' "$lib_key" "$agent_hash" | sha256sum | cut -c1-16)"
  agent_dir="$cache/agent-$core-$agent_key"
  exec 9>"$cache/agent-$core-$agent_key.lock"
  flock 9
  if [ ! -f "$agent_dir/agent.elf" ]; then
    log "building the agent for $core into $agent_dir"
    make -s -C "$agent" -j"$jobs" agent CORE="$core" OUT="$agent_dir.partial" \
      TFLM_LIB="$lib_dir/libtflm.a" >&2
    rm -rf "$agent_dir"
    mv "$agent_dir.partial" "$agent_dir"
  fi
  flock -u 9
  echo "$agent_dir/agent.elf"
}

build_host_test() {
  local key dir
  key="$(printf '%s\n' "$agent_hash" "$(gcc --version | head -n1)" | sha256sum | cut -c1-16)"
  dir="$cache/host-$key"
  exec 9>"$cache/host-$key.lock"
  flock 9
  if [ ! -x "$dir/host_test" ]; then
    make -s -C "$agent" host-test HOST_OUT="$dir.partial" >&2
    rm -rf "$dir"
    mv "$dir.partial" "$dir"
  fi
  flock -u 9
  echo "$dir/host_test"
}

case "$mode" in
  --elf) build_core "${2:?--elf needs a core: ${CORES[*]}}" ;;
  --host-test) build_host_test ;;
  all)
    for core in "${CORES[@]}"; do echo "$core $(build_core "$core")"; done
    echo "host-test $(build_host_test)"
    ;;
  *) echo "usage: bash scripts/firmware.sh [--elf CORE | --host-test]" >&2; exit 2 ;;
esac
