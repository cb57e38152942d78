#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang, ASan and UBSan in build-fuzz, runs the trace
# library's unit tests there (clang's UBSan sees what GCC's does not), then runs each target:
# first once over its seed corpus and regression inputs, then SECONDS of fuzzing (default 30),
# as many targets at a time as there are cores. Any finding fails the script; what it found is
# in build-fuzz/fuzz/findings/. See fuzz/README.md.
# Usage: scripts/fuzz.sh [SECONDS [TARGET...]]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
all=(trace_strict_fuzzer trace_salvage_fuzzer text_trace_fuzzer mtrace_import_fuzzer
  strace_import_fuzzer record_allocs_import_fuzzer)
targets=("${@:-${all[@]}}")
dir=build-fuzz
jobs=$(nproc)

# -O1 and line tables only: a third less build time than -O2 -g, and stacks still symbolised.
opt="-O1 -gline-tables-only -DNDEBUG"
CC=clang-14 CXX=clang++-14 cmake -S . -B "$dir" -DVMREPLAY_FUZZ=ON -DVMREPLAY_WERROR=ON \
  -DVMREPLAY_BENCHMARKS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$opt" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=$opt" >/dev/null
SECONDS=0
cmake --build "$dir" -j"$jobs" --target fuzzers fuzz_proto_unit_tests
echo "fuzz: built in ${SECONDS}s"
echo "== trace library unit tests (clang, ASan + UBSan)"
"$dir/fuzz/fuzz_proto_unit_tests" --gtest_brief=1

mkdir -p "$dir/fuzz/findings" "$dir/fuzz/logs"
run() {
  local t=$1 seeds=fuzz/corpus/$1 work=$dir/fuzz/work/$1 log=$dir/fuzz/logs/$1.log
  local regressions=()
  [ -d "fuzz/regressions/$t" ] && regressions=("fuzz/regressions/$t")
  mkdir -p "$work"
  # A single allocation over 512 MiB is a finding: the largest a valid chunk needs is ~220 MiB.
  local opts=(-rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -print_final_stats=1
    "-artifact_prefix=$dir/fuzz/findings/$t-")
  [ -f "fuzz/dict/$t.dict" ] && opts+=("-dict=fuzz/dict/$t.dict")
  {
    "$dir/fuzz/$t" "${opts[@]}" -runs=0 "$seeds" "${regressions[@]}" &&
      "$dir/fuzz/$t" "${opts[@]}" -max_total_time="$seconds" "$work" "$seeds"
  } >"$log" 2>&1
}

failed=()
pids=()
names=()
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  echo "== fuzz $t (${seconds}s)"
  run "$t" &
  pids+=($!)
  names+=("$t")
done
for i in "${!pids[@]}"; do
  t=${names[$i]}
  if wait "${pids[$i]}"; then
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$dir/fuzz/logs/$t.log" | tail -1)
    echo "fuzz $t: ok, ${execs##* } executions"
  else
    failed+=("$t")
    echo "fuzz $t: FINDING (log: $dir/fuzz/logs/$t.log)"
    grep -E 'FUZZ FINDING|ERROR: |runtime error|SUMMARY' "$dir/fuzz/logs/$t.log" | head -5 || true
  fi
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz: findings in ${failed[*]}"; exit 1; }
echo "fuzz: no findings (${SECONDS}s in all)"
