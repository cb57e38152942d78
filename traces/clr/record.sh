#!/usr/bin/env bash
# Records the bundled real CLR traces (traces/clr/README.md): builds the workloads with the .NET
# SDK (offline, no NuGet), runs each GC configuration under vmrecord, keeps the trace and the
# workload's output (its GC figures are the oracle), and lifts each trace as a check.
# Usage: traces/clr/record.sh BUILD_DIR [NAME ...]   (from the repository root; NAME filters)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:?usage: traces/clr/record.sh BUILD_DIR [NAME ...]}
shift
vmrecord="$build/recorder/linux/vmrecord"
vmreplay="$build/replayer/vmreplay"
artifacts=$(mktemp -d)
trap 'rm -rf "$artifacts"' EXIT

for w in requests batch pinned; do
  nice -n 15 dotnet build traces/clr/workloads/$w -c Release --artifacts-path "$artifacts" \
    -nologo -v quiet >/dev/null
done
dll() { echo "$artifacts/bin/$1/release/$1.dll"; }

# name | environment | workload
configs=(
  "ws-regions-requests||requests"
  "ws-regions-batch||batch"
  "ws-regions-pinned||pinned"
  "server-requests|DOTNET_gcServer=1|requests"
  "segments-pinned|DOTNET_GCName=libclrgc.so|pinned"
  "hard-limit-pinned|DOTNET_GCHeapHardLimit=0x30000000|pinned"
  "conserve-pinned|DOTNET_GCConserveMemory=7|pinned"
)
for c in "${configs[@]}"; do
  IFS='|' read -r name env workload <<<"$c"
  if [ $# -gt 0 ] && [[ ! " $* " =~ " $name " ]]; then continue; fi
  out=traces/clr/$name
  # shellcheck disable=SC2086  # $env is empty or one NAME=VALUE
  env $env "$vmrecord" -o "$out.pb" -- dotnet "$(dll "$workload")" >"$out.out"
  "$vmreplay" lift --clr "$out.pb" -o "$artifacts/$name.lifted.pb" --oracle "$out.out" -q
  echo "$name: $(stat -c %s "$out.pb") bytes"
done
