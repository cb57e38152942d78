#!/usr/bin/env bash
# Installs what vmreplay needs from Debian 12's packages. Idempotent: when everything is
# already installed it only checks (about a second) and touches nothing.
set -euo pipefail

packages=(
  # Build and tests.
  build-essential cmake pkg-config clang-format
  protobuf-compiler libprotobuf-dev
  libboost-dev libboost-program-options-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libzstd-dev libxxhash-dev
  # Heap backends for replay.
  libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev
  # Differential test against real Win32: mingw-w64 builds the oracle, Wine runs it.
  g++-mingw-w64-x86-64-posix wine64
  # Recorder cross-checks.
  strace
  # Fuzzing (scripts/fuzz.sh): clang and its libFuzzer / sanitizer runtimes.
  clang-14 libclang-rt-14-dev
  # The HTML report test renders the report in headless Chromium.
  chromium
  # Packaging: man pages from --help, the .deb's dependencies (dpkg-shlibdeps), completion.
  help2man dpkg-dev bash-completion man-db
  # The Python trace reader (python/) and its example.
  python3 python3-protobuf python3-zstandard python3-xxhash python3-pandas python3-matplotlib
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
