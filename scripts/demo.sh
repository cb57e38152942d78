#!/usr/bin/env bash
# README command 1: install, build, and run vmreplay on a bundled trace.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build -DCMAKE_BUILD_TYPE=Release -DVMREPLAY_BENCHMARKS=OFF >/dev/null
trace=traces/wine/random_seed1.pb
set -x
build/replayer/vmreplay info "$trace"
build/replayer/vmreplay check "$trace"
build/replayer/vmreplay dump "$trace" | sed -n '2,4p'
