#!/usr/bin/env bash
# The WebGPU check of a fresh NVIDIA machine (see bench/gpu_check.ts and README.md, Performance).
#
#   bench/gpu_check.sh [gpu_check options]   on the GPU machine, from the repository root: installs
#                                            or unpacks the Vulkan loader and GL/EGL dispatch
#                                            libraries Deno's WebGPU (wgpu over Vulkan) needs,
#                                            points at NVIDIA's driver files, prints nvidia-smi -L,
#                                            then runs bench/gpu_check.ts
#   bench/gpu_check.sh --prepare             here, without a GPU: downloads those libraries' amd64
#                                            .deb files into .gpu-debs/ (git-ignored), for a GPU
#                                            machine that reaches no package registry
#   bench/gpu_check.sh --bundle DIR          here: writes DIR/ with this script, one bundled
#                                            gpu_check.js (tfjs inlined), tfjs-backend-wasm's .wasm
#                                            files, the baseline programs, the Deno binary and
#                                            .gpu-debs/ (when prepared): about 100 MB, 45 MB
#                                            gzipped, nearly all of it Deno, for a GPU machine that
#                                            cannot take node_modules; there run DIR/gpu_check.sh
#                                            (the oracle tests need the repository: skipped)
#   bench/gpu_check.sh --help
#
# Environment: DENO (the Deno binary; default the one beside this script in a bundle, else deno
# on PATH); VK_DRIVER_FILES and __EGL_VENDOR_LIBRARY_FILENAMES are kept when already set.
set -euo pipefail

PACKAGES=(libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
NVIDIA_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
NVIDIA_EGL=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

say() { echo "gpu_check.sh: $*" >&2; }

# Runs a command as root: directly, through sudo, or not at all (a notice, status 1).
as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    say "not root and no sudo: cannot run $*"
    return 1
  fi
}

# Downloads the packages' amd64 .debs into .gpu-debs/, with apt lists of its own in a temporary
# folder (so nothing of the system's apt state changes, the architecture is amd64 whatever this
# machine is, and only the .debs travel).
prepare() {
  local dir="$PWD/.gpu-debs" state apt
  state="$(mktemp -d)"
  trap 'rm -rf "$state"' RETURN
  mkdir -p "$dir" "$state/lists/partial" "$state/cache/archives/partial"
  apt=(-o APT::Architecture=amd64 -o "Dir::State::Lists=$state/lists"
    -o "Dir::Cache=$state/cache")
  apt-get "${apt[@]}" update
  (cd "$dir" && apt-get "${apt[@]}" download "${PACKAGES[@]}")
  ls -l "$dir"/*.deb
}

# Writes the self-contained folder of --bundle.
bundle() {
  local out="$1" deno
  deno="$(readlink -f "$(command -v "${DENO:-deno}")")"
  mkdir -p "$out/wasm"
  # The emscripten loader of tfjs-backend-wasm reads __dirname under Deno, which an ES-module
  # bundle lacks; the .wasm files are found through SAM_WASM_DIST, so any value does.
  { echo 'globalThis.__dirname ??= ".";'; "$deno" bundle --platform deno bench/gpu_check.ts; } \
    >"$out/gpu_check.js"
  cp node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$out/wasm/"
  # The bundle finds the baseline programs beside itself, as bench/ finds them.
  mkdir -p "$out/baselines"
  cp bench/baselines/*.py "$out/baselines/"
  cp "$deno" "$out/deno"
  cp "$HERE/gpu_check.sh" "$out/gpu_check.sh"
  if [ -d .gpu-debs ]; then
    mkdir -p "$out/.gpu-debs"
    cp .gpu-debs/*.deb "$out/.gpu-debs/"
  fi
  du -sh "$out"
}

# The libraries: unpacked from .gpu-debs/ when present, else installed by apt-get when it works.
install_libs() {
  local cache
  # Read whole (grep -q on a pipe would end ldconfig early: a failure under pipefail).
  cache="$(ldconfig -p 2>/dev/null || true)"
  if compgen -G ".gpu-debs/*.deb" >/dev/null; then
    say "unpacking .gpu-debs/*.deb"
    for f in .gpu-debs/*.deb; do as_root dpkg -x "$f" /; done
    as_root ldconfig
  elif [[ $cache == *libvulkan.so.1* && $cache == *libEGL.so.1* ]]; then
    say "Vulkan loader and EGL already installed"
  elif command -v apt-get >/dev/null 2>&1 && as_root apt-get update -qq &&
    as_root apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}"; then
    say "installed ${PACKAGES[*]}"
  else
    say "could not install ${PACKAGES[*]} (no .gpu-debs/, apt-get failed): run --prepare where a registry is reachable"
  fi
}

run() {
  local script deno perms
  install_libs
  if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$NVIDIA_ICD" ]; then export VK_DRIVER_FILES="$NVIDIA_ICD"; fi
  if [ -z "${__EGL_VENDOR_LIBRARY_FILENAMES:-}" ] && [ -f "$NVIDIA_EGL" ]; then
    export __EGL_VENDOR_LIBRARY_FILENAMES="$NVIDIA_EGL"
  fi
  say "VK_DRIVER_FILES=${VK_DRIVER_FILES:-(unset)} __EGL_VENDOR_LIBRARY_FILENAMES=${__EGL_VENDOR_LIBRARY_FILENAMES:-(unset)}"
  if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi -L || true; else say "no nvidia-smi"; fi
  perms=(--allow-read=. --allow-write=results --allow-env --allow-sys=loadavg)
  if [ -f gpu_check.js ]; then
    deno="${DENO:-./deno}"
    export SAM_WASM_DIST="$PWD/wasm"
    exec "$deno" run "${perms[@]}" --allow-run=python3,/usr/bin/python3 gpu_check.js --no-tests "$@"
  fi
  deno="${DENO:-deno}"
  # The oracle tests run as a child "deno" found on PATH: the same binary.
  PATH="$(dirname "$(command -v "$deno")"):$PATH"
  export PATH
  script=bench/gpu_check.ts
  exec "$deno" run "${perms[@]}" --allow-run=deno,python3,/usr/bin/python3 "$script" "$@"
}

case "${1:-}" in
  -h | --help)
    sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    ;;
  --prepare)
    cd "$HERE/.."
    prepare
    ;;
  --bundle)
    [ -n "${2:-}" ] || { say "--bundle needs a folder"; exit 2; }
    out="$(mkdir -p "$2" && cd "$2" && pwd)"
    cd "$HERE/.."
    bundle "$out"
    ;;
  *)
    # The repository root, or the bundle's own folder.
    if [ -f "$HERE/gpu_check.js" ]; then cd "$HERE"; else cd "$HERE/.."; fi
    run "$@"
    ;;
esac
