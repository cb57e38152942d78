#!/usr/bin/env bash
# README command 1: install, build, and replay a bundled trace on every manager side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
echo "== building (Release)"
bash scripts/build.sh build -DCMAKE_BUILD_TYPE=Release -DVMREPLAY_BENCHMARKS=OFF >/dev/null
trace=traces/synth/server-gc.pb
set -x
build/replayer/vmreplay info "$trace"
build/replayer/vmreplay check "$trace"
build/replayer/vmreplay "$trace" --manager=passthrough --manager=arena --manager=decommit-cache \
  --manager=large-pages --manager=budget \
  --manager=plugin:build/examples/quota_host/libquota_host.so,quota=192M
build/replayer/vmreplay "$trace" --backend=sim --backend=arena --backend=os
